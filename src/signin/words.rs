//! What a button or link means, from its words (approve, deny, or neither), and which button a
//! person would press to go on.

use super::page::Form;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    Approve,
    Deny,
    Unknown,
}

/// What a button or link means, from its words. Refusals first: "Don't allow" holds "allow".
pub fn meaning(label: &str) -> Meaning {
    let lower = label.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let any = |list: &[&str]| words.iter().any(|w| list.contains(w));
    if any(&[
        "deny", "cancel", "decline", "reject", "refuse", "abort", "disallow", "no",
    ]) || lower.contains("don't")
        || lower.contains("do not")
        || lower.contains("not now")
    {
        return Meaning::Deny;
    }
    if any(&[
        "allow",
        "approve",
        "accept",
        "authorize",
        "authorise",
        "grant",
        "consent",
        "continue",
        "confirm",
        "yes",
        "agree",
        "ok",
        "proceed",
        "submit",
        "next",
        "login",
        "signin",
        "sign",
        "log",
        "verify",
    ]) {
        return Meaning::Approve;
    }
    Meaning::Unknown
}

/// The button a person would press to go on: an approving one, else the first that does
/// not refuse; `None` submits the form without one (pressing Enter).
pub fn go_on(form: &Form) -> Option<usize> {
    form.submits
        .iter()
        .position(|s| meaning(&s.label) == Meaning::Approve)
        .or_else(|| {
            form.submits
                .iter()
                .position(|s| meaning(&s.label) != Meaning::Deny)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meanings() {
        for approve in [
            "Allow",
            "Sign-in",
            "Continue",
            "Yes, continue",
            "Authorize app",
            "OK",
        ] {
            assert_eq!(meaning(approve), Meaning::Approve, "{approve}");
        }
        for deny in [
            "[ Cancel ]",
            "Deny",
            "Don't allow",
            "No, thanks",
            "Not now",
            "/i/1/abort",
        ] {
            assert_eq!(meaning(deny), Meaning::Deny, "{deny}");
        }
        assert_eq!(meaning("Help"), Meaning::Unknown);
    }
}
