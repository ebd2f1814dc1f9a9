//! A report: named checks, each with a verdict and a detail, as in `--report` and on the
//! result page.

use serde::Serialize;
use serde_json::{Map, Value};

/// A check's outcome. A warning never fails a run; a failure always does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    /// The rule held for what the token says, but the token's signature did not verify, so
    /// what it says proves nothing (Core 3.1.3.7 step 6). Never a pass; the signature row
    /// itself is the failure.
    Unverified,
    /// A probe that could not run here (no such endpoint, a public client, ...); the detail
    /// says why. Never a pass, never a failure.
    #[serde(rename = "not_run")]
    NotRun,
}

impl Verdict {
    /// As in the JSON report, and as the page's CSS class.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Unverified => "unverified",
            Self::NotRun => "not_run",
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: String,
    pub result: Verdict,
    pub detail: String,
    /// The rule's source (an RFC section), for the audit's probes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
}

impl Check {
    pub fn pass(check: &str, detail: impl Into<String>) -> Self {
        Self::new(check, Verdict::Pass, detail)
    }

    pub fn warn(check: &str, detail: impl Into<String>) -> Self {
        Self::new(check, Verdict::Warn, detail)
    }

    pub fn fail(check: &str, detail: impl Into<String>) -> Self {
        Self::new(check, Verdict::Fail, detail)
    }

    pub fn not_run(check: &str, detail: impl Into<String>) -> Self {
        Self::new(check, Verdict::NotRun, detail)
    }

    /// The same check, naming the rule's source.
    pub fn source(self, source: &'static str) -> Self {
        Self {
            source: Some(source),
            ..self
        }
    }

    /// The same rule applied to claims read from a token whose signature did not verify: a
    /// pass or a warning becomes `Unverified`, a failure stays one; the detail says so.
    pub fn unverified(self) -> Self {
        let result = match self.result {
            Verdict::Fail => Verdict::Fail,
            _ => Verdict::Unverified,
        };
        Self {
            detail: format!(
                "read from an unverified token (its signature failed): {}",
                self.detail
            ),
            result,
            ..self
        }
    }

    fn new(check: &str, result: Verdict, detail: impl Into<String>) -> Self {
        Self {
            check: check.to_owned(),
            result,
            detail: detail.into(),
            source: None,
        }
    }
}

/// Everything checked after one sign-in.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
    /// The ID token's claims, decoded (trusted only when the signature check passed).
    pub id_token_claims: Option<Map<String, Value>>,
    /// A JWT access token's claims, decoded.
    pub access_token_claims: Option<Map<String, Value>>,
    /// Cross-app access: the ID-JAG's claims, decoded and unverified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_jag_claims: Option<Box<Map<String, Value>>>,
    /// The `sub` of an ID token that passed every check, for the userinfo comparison.
    #[serde(skip)]
    pub verified_sub: Option<String>,
}

impl Report {
    pub fn failed(&self) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| c.result == Verdict::Fail)
            .collect()
    }

    pub fn warnings(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.result == Verdict::Warn)
            .count()
    }
}
