//! The checks of one MCP conversation as it goes, and the step a failure is filed under.

use crate::oauth::Check;

/// The checks so far, and the step a failure would be filed under.
#[derive(Default)]
pub struct Progress {
    pub(super) checks: Vec<Check>,
    next: Option<&'static str>,
}

impl Progress {
    pub(super) fn expect(&mut self, step: &'static str) {
        self.next = Some(step);
    }

    pub(super) fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    /// The checks with the failure, filed under the step that was under way.
    pub fn failed(mut self, detail: String) -> Vec<Check> {
        let step = self.next.unwrap_or("mcp.initialize");
        self.checks.push(Check::fail(step, detail));
        self.checks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_filed_under_the_step_under_way() {
        assert_eq!(
            Progress::default().failed("x".into())[0].check,
            "mcp.initialize"
        );
        let mut progress = Progress::default();
        progress.expect("mcp.discover");
        progress.push(Check::pass("mcp.discover", ""));
        progress.expect("mcp.tools_list");
        let checks = progress.failed("boom".into());
        assert_eq!(checks.len(), 2);
        assert_eq!(checks[1].check, "mcp.tools_list");
    }
}
