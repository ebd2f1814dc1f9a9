//! The one way this crate takes a `std::sync::Mutex`: every value kept behind one is updated
//! whole (a push, an assignment), so a panic on another thread cannot leave it half-written,
//! and a poisoned lock is taken anyway rather than turning one panic into many.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, recovering the guard from a poisoned lock.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_is_still_taken() {
        let m = std::sync::Arc::new(Mutex::new(1));
        let m2 = m.clone();
        let _ = std::thread::spawn(move || {
            let _guard = m2.lock().unwrap();
            panic!("poison it");
        })
        .join();
        assert!(m.is_poisoned());
        *lock(&m) += 1;
        assert_eq!(*lock(&m), 2);
    }
}
