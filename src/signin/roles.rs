//! What a form field is for (username, password, one-time code, or none of these), from its
//! `type`, `autocomplete`, `name` and `id`: the same rule for both drivers.

/// What a form field is for, as far as signing in goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Username,
    Password,
    Code,
    Other,
}

/// What a text-like input is for, from its `type`, `autocomplete`, `name` and `id`
/// (the HTML autofill tokens are the reliable signal; names are the fallback).
pub fn role(kind: &str, autocomplete: &str, name_and_id: &str, inputmode: &str) -> Role {
    let ac: Vec<&str> = autocomplete.split_whitespace().collect();
    if kind == "password" || ac.contains(&"current-password") || ac.contains(&"new-password") {
        return Role::Password;
    }
    if ac.contains(&"one-time-code") {
        return Role::Code;
    }
    if !matches!(kind, "text" | "email" | "tel" | "number" | "search" | "") {
        return Role::Other;
    }
    if ac.contains(&"username") || ac.contains(&"email") || kind == "email" {
        return Role::Username;
    }
    let words: Vec<&str> = name_and_id
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |needles: &[&str]| words.iter().any(|w| needles.iter().any(|n| w.contains(n)));
    if has(&[
        "otp",
        "totp",
        "mfa",
        "passcode",
        "onetime",
        "2fa",
        "verification",
    ]) || words.iter().any(|w| matches!(*w, "code" | "pin" | "token"))
        || (inputmode == "numeric" && has(&["code"]))
    {
        return Role::Code;
    }
    if has(&[
        "user",
        "email",
        "mail",
        "login",
        "identifier",
        "identity",
        "account",
    ]) {
        return Role::Username;
    }
    Role::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_by_type_autocomplete_and_name() {
        assert_eq!(role("email", "", "x", ""), Role::Username);
        assert_eq!(role("text", "username", "x", ""), Role::Username);
        assert_eq!(role("text", "", "loginfmt", ""), Role::Username);
        assert_eq!(role("text", "", "identifier", ""), Role::Username);
        assert_eq!(role("text", "one-time-code", "x", ""), Role::Code);
        assert_eq!(role("text", "", "otp", ""), Role::Code);
        assert_eq!(role("tel", "", "code", "numeric"), Role::Code);
        assert_eq!(role("text", "off", "totp_code", ""), Role::Code);
        assert_eq!(role("text", "current-password", "pw", ""), Role::Password);
        assert_eq!(role("password", "", "", ""), Role::Password);
        assert_eq!(role("hidden", "", "username", ""), Role::Other);
        assert_eq!(role("checkbox", "", "remember_login", ""), Role::Other);
        assert_eq!(role("text", "", "q", ""), Role::Other);
    }
}
