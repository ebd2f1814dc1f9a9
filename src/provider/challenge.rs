//! `WWW-Authenticate` (RFC 9110 section 11.6.1): the challenge list parsed by its grammar, so a
//! word inside a quoted string is never taken for a scheme (`Basic realm="bearer"` is Basic).
//! Pure: no I/O, bounded input, never panics (fuzzed: `fuzz/fuzz_targets/resource_challenge.rs`).

use std::fmt;

/// The most header text read, all field lines together; longer is refused, not parsed.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// One challenge: `auth-scheme [ 1*SP ( token68 / #auth-param ) ]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// As sent; compare with [`Challenge::is`] (case-insensitive, RFC 9110 section 11.1).
    pub scheme: String,
    pub token68: Option<String>,
    /// Names lowercased (case-insensitive, section 11.2), values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// A parameter's value, by name in any case.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a header is not a challenge list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("WWW-Authenticate is longer than {MAX_HEADER_BYTES} bytes: not read")]
    TooLong,
    #[error("WWW-Authenticate is malformed at byte {at}: {problem} (RFC 9110 section 11.6.1)")]
    Malformed { at: usize, problem: &'static str },
    #[error(
        "WWW-Authenticate gives the parameter {name:?} twice in one challenge (RFC 9110 section 11.2)"
    )]
    Repeated { name: String },
}

/// Every challenge in the header's field lines, in order (a recipient may combine the lines
/// into one list, RFC 9110 section 5.3; each is parsed on its own, which is the same).
pub fn parse<'a>(
    lines: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Challenge>, ChallengeError> {
    let mut total = 0usize;
    let mut challenges = Vec::new();
    for line in lines {
        total = total.saturating_add(line.len());
        if total > MAX_HEADER_BYTES {
            return Err(ChallengeError::TooLong);
        }
        Parser { s: line, pos: 0 }.list(&mut challenges)?;
    }
    Ok(challenges)
}

/// The Bearer challenge's parameters this client acts on (RFC 6750 section 3; RFC 9728
/// section 5.1 adds `resource_metadata`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bearer {
    pub realm: Option<String>,
    pub scope: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub resource_metadata: Option<String>,
    /// The challenge is `DPoP` (RFC 9449 section 7.1), not `Bearer`: the server wants
    /// DPoP-bound tokens. Its parameters are read the same way.
    pub dpop: bool,
}

impl Bearer {
    /// The first Bearer challenge, else the first DPoP one; `None` when there is neither, or
    /// when it carries a token68 (RFC 6750 section 3 defines auth-params only).
    pub fn find(challenges: &[Challenge]) -> Option<Self> {
        let c = challenges
            .iter()
            .find(|c| c.is("Bearer"))
            .or_else(|| challenges.iter().find(|c| c.is("DPoP")))?;
        if c.token68.is_some() {
            return None;
        }
        let get = |name: &str| c.param(name).map(str::to_owned);
        Some(Self {
            dpop: !c.is("Bearer"),
            realm: get("realm"),
            scope: get("scope"),
            error: get("error"),
            error_description: get("error_description"),
            resource_metadata: get("resource_metadata"),
        })
    }
}

impl fmt::Display for Bearer {
    /// The parameters that were sent, for a hop or an error detail.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.dpop { "DPoP" } else { "Bearer" })?;
        let fields = [
            ("realm", &self.realm),
            ("scope", &self.scope),
            ("error", &self.error),
            ("error_description", &self.error_description),
            ("resource_metadata", &self.resource_metadata),
        ];
        let mut sep = " ";
        for (name, value) in fields {
            if let Some(v) = value {
                write!(f, "{sep}{name}={v:?}")?;
                sep = ", ";
            }
        }
        Ok(())
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn malformed(&self, problem: &'static str) -> ChallengeError {
        ChallengeError::Malformed {
            at: self.pos,
            problem,
        }
    }

    /// OWS / BWS: spaces and tabs; how many were skipped.
    fn skip_ows(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.pos += 1;
        }
        // Only ASCII bytes were passed, so both ends are char boundaries.
        &self.s[start..self.pos]
    }

    fn token(&mut self) -> Option<String> {
        let t = self.take_while(is_tchar);
        (!t.is_empty()).then(|| t.to_owned())
    }

    /// A token68 standing alone as the element: `1*tchar68 *"="`, then the element's end.
    fn token68(&mut self) -> Option<String> {
        let start = self.pos;
        if self.take_while(is_token68_char).is_empty() {
            return None;
        }
        self.take_while(|b| b == b'=');
        let end = self.pos;
        self.skip_ows();
        if matches!(self.peek(), None | Some(b',')) {
            self.pos = end;
            return Some(self.s[start..end].to_owned());
        }
        self.pos = start;
        None
    }

    /// `quoted-string`, the opening quote already next.
    fn quoted(&mut self) -> Result<String, ChallengeError> {
        self.pos += 1;
        let mut value = String::new();
        let mut chars = self.s[self.pos..].char_indices();
        let base = self.pos;
        while let Some((i, c)) = chars.next() {
            self.pos = base + i;
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(value);
                }
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                '\\' => match chars.next() {
                    Some((_, c)) if c == '\t' || !c.is_control() => value.push(c),
                    Some(_) => return Err(self.malformed("a control character after a backslash")),
                    None => break,
                },
                c if c != '\t' && c.is_control() => {
                    return Err(self.malformed("a control character in a quoted string"));
                }
                c => value.push(c),
            }
        }
        self.pos = self.s.len();
        Err(self.malformed("a quoted string is not closed"))
    }

    /// `BWS "=" BWS ( token / quoted-string )`, after the name.
    fn param_value(&mut self) -> Result<String, ChallengeError> {
        self.skip_ows();
        if self.peek() != Some(b'=') {
            return Err(self.malformed("expected \"=\" after a parameter name"));
        }
        self.pos += 1;
        self.skip_ows();
        match self.peek() {
            Some(b'"') => self.quoted(),
            _ => self
                .token()
                .ok_or_else(|| self.malformed("expected a token or a quoted string as the value")),
        }
    }

    /// After an element: OWS, then the end or a comma.
    fn element_end(&mut self) -> Result<(), ChallengeError> {
        self.skip_ows();
        match self.peek() {
            None | Some(b',') => Ok(()),
            Some(_) => Err(self.malformed("expected \",\" or the end after an element")),
        }
    }

    fn add_param(c: &mut Challenge, name: String, value: String) -> Result<(), ChallengeError> {
        let name = name.to_ascii_lowercase();
        if c.params.iter().any(|(k, _)| *k == name) {
            return Err(ChallengeError::Repeated { name });
        }
        c.params.push((name, value));
        Ok(())
    }

    /// `#challenge`, where the commas between a challenge's auth-params and those between
    /// challenges are the same: a `name=` continues the current challenge, a bare token
    /// starts the next one.
    fn list(&mut self, out: &mut Vec<Challenge>) -> Result<(), ChallengeError> {
        let mut current: Option<Challenge> = None;
        loop {
            // Empty list elements are allowed (RFC 9110 section 5.6.1.2).
            while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
                self.pos += 1;
            }
            if self.peek().is_none() {
                break;
            }
            let Some(name) = self.token() else {
                return Err(self.malformed("expected an auth-scheme or a parameter name"));
            };
            let after_name = self.pos;
            self.skip_ows();
            if let Some(c) = current.as_mut()
                && self.peek() == Some(b'=')
            {
                if c.token68.is_some() {
                    return Err(self.malformed("a challenge has a token68 or parameters, not both"));
                }
                self.pos = after_name;
                let value = self.param_value()?;
                Self::add_param(c, name, value)?;
                self.element_end()?;
                continue;
            }
            out.extend(current.take());
            self.pos = after_name;
            let mut c = Challenge {
                scheme: name,
                token68: None,
                params: Vec::new(),
            };
            let spaces = self.skip_ows();
            if !matches!(self.peek(), None | Some(b',')) {
                if spaces == 0 {
                    return Err(self.malformed("expected a space after the auth-scheme"));
                }
                if let Some(t) = self.token68() {
                    c.token68 = Some(t);
                } else {
                    let Some(param) = self.token() else {
                        return Err(self.malformed("expected a token68 or a parameter name"));
                    };
                    let value = self.param_value()?;
                    Self::add_param(&mut c, param, value)?;
                }
                self.element_end()?;
            }
            current = Some(c);
        }
        out.extend(current);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dpop_challenge_is_read_when_there_is_no_bearer_one() {
        let dpop = parse([r#"DPoP algs="ES256", resource_metadata="https://m/x""#]).unwrap();
        let found = Bearer::find(&dpop).unwrap();
        assert!(found.dpop);
        assert_eq!(found.resource_metadata.as_deref(), Some("https://m/x"));
        assert!(found.to_string().starts_with("DPoP "), "{found}");
        let both = parse([r#"DPoP algs="ES256", Bearer scope="a""#]).unwrap();
        let found = Bearer::find(&both).unwrap();
        assert!(
            !found.dpop,
            "Bearer is taken when offered: DPoP is then optional"
        );
        assert_eq!(found.scope.as_deref(), Some("a"));
    }

    fn one(header: &str) -> Result<Vec<Challenge>, ChallengeError> {
        parse([header])
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn several_challenges_in_one_header() {
        let c = one(r#"Basic realm="x", Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", scope="a b""#).unwrap();
        assert_eq!(c.len(), 2);
        assert!(c[0].is("basic"));
        assert_eq!(c[0].params, params(&[("realm", "x")]));
        assert!(c[1].is("Bearer"));
        let b = Bearer::find(&c).unwrap();
        assert_eq!(
            b.resource_metadata.as_deref(),
            Some("https://api.example.com/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(b.scope.as_deref(), Some("a b"));
        assert_eq!(b.realm, None);
    }

    #[test]
    fn a_quoted_bearer_is_not_a_bearer_challenge() {
        let c = one(r#"Basic realm="bearer""#).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(Bearer::find(&c), None);
        let c = one(r#"Basic realm="Bearer error=x", charset="UTF-8""#).unwrap();
        assert_eq!(Bearer::find(&c), None);
        assert_eq!(c[0].param("charset"), Some("UTF-8"));
        // A scheme whose name merely contains the word.
        assert_eq!(Bearer::find(&one("NotBearer realm=x").unwrap()), None);
    }

    #[test]
    fn quoted_strings_keep_commas_and_escaped_quotes() {
        let c =
            one(r#"Bearer error="invalid_token", error_description="a \"quoted\", word\\ here""#)
                .unwrap();
        let b = Bearer::find(&c).unwrap();
        assert_eq!(b.error.as_deref(), Some("invalid_token"));
        assert_eq!(
            b.error_description.as_deref(),
            Some(r#"a "quoted", word\ here"#)
        );
        assert_eq!(c.len(), 1, "the comma inside the quotes starts nothing");
    }

    #[test]
    fn case_whitespace_and_empty_elements() {
        let c = one("  bEaReR  ReAlM = \"r\" ,, , SCOPE=openid\t,").unwrap();
        let b = Bearer::find(&c).unwrap();
        assert_eq!(b.realm.as_deref(), Some("r"));
        assert_eq!(b.scope.as_deref(), Some("openid"));
        assert_eq!(c[0].params[0].0, "realm", "names are lowercased");
        assert_eq!(
            Bearer::find(&one("Bearer").unwrap()),
            Some(Bearer::default())
        );
        assert_eq!(one("").unwrap(), vec![]);
        assert_eq!(one(" , ,").unwrap(), vec![]);
    }

    #[test]
    fn token68_and_bare_schemes() {
        let c = one("Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg==, Basic, Bearer realm=\"a\"").unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(
            c[0].token68.as_deref(),
            Some("YIIBhwYGKwYBBQUCoIIBezCCAXeg==")
        );
        assert!(c[1].is("basic") && c[1].params.is_empty() && c[1].token68.is_none());
        assert_eq!(c[2].param("REALM"), Some("a"));
        let c = one("Newauth abc/def+=").unwrap();
        assert_eq!(c[0].token68.as_deref(), Some("abc/def+="));
        // RFC 6750 Bearer has no token68 form.
        assert_eq!(Bearer::find(&one("Bearer abc").unwrap()), None);
        let c = one("Bearer realm=").unwrap();
        assert_eq!(
            c[0].token68.as_deref(),
            Some("realm="),
            "a token68, by the grammar"
        );
        assert_eq!(Bearer::find(&c), None);
        assert!(
            one("Newauth abc=, realm=x").is_err(),
            "token68 or params, not both"
        );
    }

    #[test]
    fn several_field_lines() {
        let c = parse([r#"Basic realm="x""#, r#"Bearer scope="a""#]).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(Bearer::find(&c).unwrap().scope.as_deref(), Some("a"));
    }

    #[test]
    fn malformed_headers_are_named() {
        for bad in [
            r#"Bearer realm="open"#,
            r#"Bearer error=invalid_token error_description="x""#,
            "Bearer resource_metadata=https://api.example.com/x",
            "Bearer=x",
            "Bearer realm=\"a\u{1b}[2Jb\"",
            "Bearer realm=\"a\\",
            "\"Bearer\"",
            "Bearer, realm=\"a\", scope=\"b\" junk",
        ] {
            assert!(
                matches!(one(bad), Err(ChallengeError::Malformed { .. })),
                "{bad:?}: {:?}",
                one(bad)
            );
        }
        assert_eq!(
            one(r#"Bearer scope="a", SCOPE="b""#),
            Err(ChallengeError::Repeated {
                name: "scope".into()
            })
        );
        let long = format!("Bearer realm=\"{}\"", "a".repeat(MAX_HEADER_BYTES));
        assert_eq!(one(&long), Err(ChallengeError::TooLong));
        let lines = vec!["Basic realm=\"x\""; MAX_HEADER_BYTES / 8];
        assert_eq!(parse(lines), Err(ChallengeError::TooLong));
    }

    #[test]
    fn garbage_never_panics() {
        let samples = [
            "\u{0}",
            "\"",
            "\\",
            "=",
            ",=,",
            "é",
            "Bearer é=\"ü\"",
            "Bearer realm=\"é\\é\"",
            "Bearer realm=\"\u{202e}\"",
            "a b c d",
            "a b=c d",
            "a ==",
            "a b==c",
            "B\tr=\"\t\"",
        ];
        for s in samples {
            let _ = one(s);
            for cut in 0..=s.len() {
                if let Some(prefix) = s.get(..cut) {
                    let _ = one(prefix);
                }
            }
        }
        // Every byte after a valid start.
        for b in 0u8..=127 {
            let s = format!("Bearer realm=\"x\", a{}b", b as char);
            let _ = one(&s);
        }
    }
}
