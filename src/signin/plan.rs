//! What to do on a page: which form to fill and with what, or which consent control to use.
//! Pure: a page and what was submitted so far in, an action or the reason there is none out.

use url::Url;

use super::Consent;
pub use super::form_data::Submission;
use super::form_data::submission;
use super::page::{Field, Form, Page, Role, Submit};
use super::words::{Meaning, go_on, meaning};

/// A step of the sign-in that is answered once: asked again means refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Identifier,
    Password,
    Code,
}

impl Stage {
    pub fn noun(self) -> &'static str {
        match self {
            Self::Identifier => "username",
            Self::Password => "password",
            Self::Code => "one-time code",
        }
    }
}

/// The values to type in. Borrowed: plain strings live only as long as one page.
pub struct Inputs<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub code: Option<&'a str>,
}

/// What a field is filled with: the browser driver types these into the page itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    Username,
    Password,
    Code,
}

// The indices are the browser driver's: a build without it reads only the submission.
#[cfg_attr(not(feature = "browser"), allow(dead_code))]
pub enum Action {
    Submit {
        /// The form (index in `Page::forms`) and the control pressed (index in its
        /// `submits`; `None`: submitted as Enter would).
        form: usize,
        submit: Option<usize>,
        /// The fields typed into (index in the form's `fields`), and with what.
        fills: Vec<(usize, Fill)>,
        /// The request the form makes, for the http driver.
        submission: Submission,
        /// The stages this answers, marked once the form is sent.
        stages: Vec<Stage>,
        /// For the log: what was filled in or chosen, never a value.
        what: String,
    },
    Follow {
        /// Index in `Page::links`.
        link: usize,
        url: Url,
        what: String,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// The page asks again for a stage already answered.
    Rejected(Stage),
    NeedsCode {
        field: String,
    },
    NoForm,
    NoControl {
        choice: Consent,
        seen: Vec<String>,
    },
}

fn button_text(submit: Option<&Submit>) -> String {
    submit.map_or("without a button".into(), |s| format!("with {:?}", s.text))
}

/// The fields of `form` that `fill` names, by index.
fn fills(form: &Form, fill: impl Fn(&Field) -> Option<Fill>) -> Vec<(usize, Fill)> {
    form.fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| fill(f).map(|k| (i, k)))
        .collect()
}

/// A form submitted with `submit`, its fields filled as `fill` says.
fn submit_form(
    page: &Page,
    form: usize,
    submit: Option<usize>,
    inputs: &Inputs<'_>,
    fill: impl Fn(&Field) -> Option<Fill>,
    stages: Vec<Stage>,
    what: String,
) -> Action {
    let f = &page.forms[form];
    let value = |k: Fill| match k {
        Fill::Username => Some(inputs.username.to_owned()),
        Fill::Password => Some(inputs.password.to_owned()),
        Fill::Code => inputs.code.map(str::to_owned),
    };
    Action::Submit {
        form,
        submit,
        fills: fills(f, &fill),
        submission: submission(f, submit.map(|i| &f.submits[i]), |field| {
            fill(field).and_then(value)
        }),
        stages,
        what,
    }
}

pub fn plan(
    page: &Page,
    submitted: &[Stage],
    inputs: &Inputs<'_>,
    consent: Consent,
) -> Result<Action, Problem> {
    let done = |s: Stage| submitted.contains(&s);
    if let Some(index) = page.forms.iter().position(|f| f.has(Role::Password)) {
        let form = &page.forms[index];
        if done(Stage::Password) {
            return Err(Problem::Rejected(Stage::Password));
        }
        let submit = go_on(form);
        let with_code = form.has(Role::Code) && inputs.code.is_some();
        let mut stages = vec![Stage::Password];
        if form.has(Role::Username) {
            stages.push(Stage::Identifier);
        }
        if with_code {
            stages.push(Stage::Code);
        }
        let what = format!(
            "filling in the {}password{} and submitting {}",
            if form.has(Role::Username) {
                "username and "
            } else {
                ""
            },
            if with_code { " and one-time code" } else { "" },
            button_text(submit.map(|i| &form.submits[i]))
        );
        let fill = |f: &Field| match f.role {
            Role::Username if f.visible => Some(Fill::Username),
            Role::Password if f.visible => Some(Fill::Password),
            Role::Code if f.visible && with_code => Some(Fill::Code),
            _ => None,
        };
        return Ok(submit_form(page, index, submit, inputs, fill, stages, what));
    }
    if let Some(index) = page.forms.iter().position(|f| f.has(Role::Code)) {
        let form = &page.forms[index];
        if done(Stage::Code) {
            return Err(Problem::Rejected(Stage::Code));
        }
        if inputs.code.is_none() {
            let field = form
                .fields
                .iter()
                .find(|f| f.role == Role::Code && f.visible)
                .map_or_else(String::new, |f| f.name.clone());
            return Err(Problem::NeedsCode { field });
        }
        let submit = go_on(form);
        let what = format!(
            "filling in the one-time code and submitting {}",
            button_text(submit.map(|i| &form.submits[i]))
        );
        let fill = |f: &Field| (f.role == Role::Code && f.visible).then_some(Fill::Code);
        return Ok(submit_form(
            page,
            index,
            submit,
            inputs,
            fill,
            vec![Stage::Code],
            what,
        ));
    }
    if let Some(index) = page.forms.iter().position(|f| f.has(Role::Username)) {
        let form = &page.forms[index];
        // The sign-in page again after the password went in: the password was refused.
        if done(Stage::Password) {
            return Err(Problem::Rejected(Stage::Password));
        }
        if done(Stage::Identifier) {
            return Err(Problem::Rejected(Stage::Identifier));
        }
        let submit = go_on(form);
        let what = format!(
            "filling in the username (identifier-first) and submitting {}",
            button_text(submit.map(|i| &form.submits[i]))
        );
        let fill = |f: &Field| (f.role == Role::Username && f.visible).then_some(Fill::Username);
        return Ok(submit_form(
            page,
            index,
            submit,
            inputs,
            fill,
            vec![Stage::Identifier],
            what,
        ));
    }
    choose(page, consent)
}

/// A consent (or "stay signed in?") page: its approving or refusing control, a submit
/// button (by text, name or value) or a link (many providers' "Cancel" is one).
fn choose(page: &Page, consent: Consent) -> Result<Action, Problem> {
    let wanted = match consent {
        Consent::Approve => Meaning::Approve,
        Consent::Deny => Meaning::Deny,
    };
    // Every submit control of every form: (form index, control index, control).
    let buttons = page
        .forms
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.submits.iter().enumerate().map(move |(j, s)| (i, j, s)));
    let answer = |form: usize, submit: usize| {
        let f = &page.forms[form];
        let s = &f.submits[submit];
        Action::Submit {
            form,
            submit: Some(submit),
            fills: Vec::new(),
            submission: submission(f, Some(s), |_| None),
            stages: Vec::new(),
            what: format!("answering {:?}", s.text),
        }
    };
    if let Some((form, submit, _)) = buttons
        .clone()
        .find(|(_, _, s)| meaning(&s.label) == wanted)
    {
        return Ok(answer(form, submit));
    }
    let link_meaning = |l: &super::page::Link| {
        // The link's own words first, then its path ("/interaction/x/abort").
        match meaning(&l.label) {
            Meaning::Unknown => meaning(l.href.path()),
            m => m,
        }
    };
    if let Some((index, link)) = page
        .links
        .iter()
        .enumerate()
        .find(|(_, l)| link_meaning(l) == wanted)
    {
        return Ok(Action::Follow {
            link: index,
            url: link.href.clone(),
            what: format!("following the link {:?}", link.label),
        });
    }
    // A form with nothing to type and one button that does not refuse is a consent form
    // whose button has an unusual label ("Looks good").
    if consent == Consent::Approve
        && let Some((form, submit)) = page.forms.iter().enumerate().find_map(|(i, f)| {
            (f.visible_inputs() == 0)
                .then(|| {
                    f.submits
                        .iter()
                        .position(|s| meaning(&s.label) != Meaning::Deny)
                })
                .flatten()
                .map(|j| (i, j))
        })
    {
        return Ok(answer(form, submit));
    }
    let seen: Vec<String> = buttons
        .map(|(_, _, s)| s.text.clone())
        .chain(page.links.iter().map(|l| l.label.clone()))
        .filter(|l| !l.is_empty())
        .take(8)
        .collect();
    // A page that only carries hidden fields on, submitted by its script on load (a
    // form_post response, oidc-provider's device code page): submitted as the script would.
    if let [f] = page.forms.as_slice()
        && page.scripts > 0
        && f.submits.is_empty()
        && f.visible_inputs() == 0
        && !f.fields.is_empty()
    {
        return Ok(Action::Submit {
            form: 0,
            submit: None,
            fills: Vec::new(),
            submission: submission(f, None, |_| None),
            stages: Vec::new(),
            what: "submitting the form the page's script submits on load".into(),
        });
    }
    if page.forms.iter().all(|f| f.submits.is_empty()) {
        return Err(Problem::NoForm);
    }
    Err(Problem::NoControl {
        choice: consent,
        seen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUTS: Inputs<'static> = Inputs {
        username: "ci@example.com",
        password: "pw",
        code: None,
    };

    fn page(html: &str) -> Page {
        Page::parse(Url::parse("http://idp.test/i/1").unwrap(), 200, html)
    }

    fn submitted(action: Result<Action, Problem>) -> (String, Vec<(String, String)>, Vec<Stage>) {
        match action {
            Ok(Action::Submit {
                submission, stages, ..
            }) => (submission.url.to_string(), submission.body, stages),
            Ok(Action::Follow { url, .. }) => (url.to_string(), Vec::new(), Vec::new()),
            Err(p) => panic!("{p:?}"),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const LOGIN: &str = r#"<form action="/i/1/login" method="post">
        <input type="hidden" name="prompt" value="login">
        <input type="text" name="login"><input type="password" name="password">
        <button type="submit">Sign-in</button></form><a href="/i/1/abort">[ Cancel ]</a>"#;

    #[test]
    fn a_login_form_gets_the_username_and_password_and_carries_hidden_fields() {
        let (url, body, stages) = submitted(plan(&page(LOGIN), &[], &INPUTS, Consent::Approve));
        assert_eq!(url, "http://idp.test/i/1/login");
        assert_eq!(
            body,
            pairs(&[
                ("prompt", "login"),
                ("login", "ci@example.com"),
                ("password", "pw")
            ])
        );
        assert_eq!(stages, [Stage::Password, Stage::Identifier]);
        assert_eq!(
            plan(&page(LOGIN), &stages, &INPUTS, Consent::Approve).err(),
            Some(Problem::Rejected(Stage::Password)),
            "a wrong password is submitted once"
        );
    }

    #[test]
    fn the_browser_driver_gets_the_form_the_fields_and_the_button_by_index() {
        let page = page(&format!(
            r#"<form action="/search"><input name="q"><button>Search</button></form>{LOGIN}"#
        ));
        match plan(&page, &[], &INPUTS, Consent::Approve) {
            Ok(Action::Submit {
                form,
                submit,
                fills,
                ..
            }) => {
                assert_eq!((form, submit), (1, Some(0)));
                assert_eq!(fills, [(1, Fill::Username), (2, Fill::Password)]);
            }
            _ => panic!("a submission"),
        }
        let consent = page_consent();
        match plan(&consent, &[], &INPUTS, Consent::Deny) {
            Ok(Action::Submit {
                form,
                submit,
                fills,
                ..
            }) => {
                assert_eq!((form, submit), (0, Some(0)));
                assert!(fills.is_empty());
            }
            _ => panic!("the Deny button"),
        }
        match plan(&self::page(LOGIN), &[], &INPUTS, Consent::Deny) {
            Ok(Action::Submit { .. }) => {}
            _ => panic!("a login form is filled in whatever the consent answer"),
        }
        let links = self::page(r#"<p>Allow?</p><a href="/i/1/abort">Cancel</a>"#);
        match plan(&links, &[], &INPUTS, Consent::Deny) {
            Ok(Action::Follow { link, .. }) => assert_eq!(link, 0),
            _ => panic!("the Cancel link"),
        }
    }

    fn page_consent() -> Page {
        page(
            r#"<form method="post" action="/c"><button name="d" value="deny">Deny</button>
            <button name="d" value="allow">Allow</button></form>"#,
        )
    }

    #[test]
    fn identifier_first_then_password() {
        let email = page(
            r#"<form method="post" action="/id"><input type="hidden" name="csrf" value="c">
            <input type="email" name="email" autocomplete="username"><button>Next</button></form>"#,
        );
        let (url, body, stages) = submitted(plan(&email, &[], &INPUTS, Consent::Approve));
        assert_eq!(url, "http://idp.test/id");
        assert_eq!(body, pairs(&[("csrf", "c"), ("email", "ci@example.com")]));
        assert_eq!(stages, [Stage::Identifier]);
        let password = page(
            r#"<form method="post" action="/pw"><input type="hidden" name="email" value="ci@example.com">
            <input type="password" name="pw" autocomplete="current-password"><button>Sign in</button>
            <button name="back" value="1">Back</button></form>"#,
        );
        let (_, body, _) = submitted(plan(&password, &stages, &INPUTS, Consent::Approve));
        assert_eq!(body, pairs(&[("email", "ci@example.com"), ("pw", "pw")]));
        assert_eq!(
            plan(&email, &stages, &INPUTS, Consent::Approve).err(),
            Some(Problem::Rejected(Stage::Identifier))
        );
        assert_eq!(
            plan(
                &email,
                &[Stage::Identifier, Stage::Password],
                &INPUTS,
                Consent::Approve
            )
            .err(),
            Some(Problem::Rejected(Stage::Password))
        );
    }

    #[test]
    fn one_time_codes() {
        let totp = page(
            r#"<form method="post"><input name="otp" autocomplete="one-time-code" inputmode="numeric">
            <button>Verify</button></form>"#,
        );
        assert_eq!(
            plan(&totp, &[Stage::Password], &INPUTS, Consent::Approve).err(),
            Some(Problem::NeedsCode {
                field: "otp".into()
            })
        );
        let with_code = Inputs {
            code: Some("123456"),
            ..INPUTS
        };
        let (url, body, stages) = submitted(plan(
            &totp,
            &[Stage::Password],
            &with_code,
            Consent::Approve,
        ));
        assert_eq!(url, "http://idp.test/i/1", "no action: the page's own URL");
        assert_eq!(body, pairs(&[("otp", "123456")]));
        assert_eq!(stages, [Stage::Code]);
        assert_eq!(
            plan(&totp, &[Stage::Code], &with_code, Consent::Approve).err(),
            Some(Problem::Rejected(Stage::Code))
        );
    }

    #[test]
    fn consent_by_button_or_link() {
        let dev = page(
            r#"<form action="/i/2/confirm" method="post"><input type="hidden" name="prompt" value="consent">
            <button autofocus type="submit" class="login login-submit">Continue</button></form>
            <div class="login-help"><a href="/i/2/abort">[ Cancel ]</a></div>"#,
        );
        let (url, body, _) = submitted(plan(&dev, &[], &INPUTS, Consent::Approve));
        assert_eq!(url, "http://idp.test/i/2/confirm");
        assert_eq!(body, pairs(&[("prompt", "consent")]));
        let (url, body, _) = submitted(plan(&dev, &[], &INPUTS, Consent::Deny));
        assert_eq!(url, "http://idp.test/i/2/abort");
        assert!(body.is_empty());

        let buttons = page(
            r#"<form method="post" action="/c"><input type="hidden" name="t" value="1">
            <button name="decision" value="deny">Don't allow</button>
            <button name="decision" value="allow">Allow</button></form>"#,
        );
        let (_, body, _) = submitted(plan(&buttons, &[], &INPUTS, Consent::Approve));
        assert_eq!(body, pairs(&[("t", "1"), ("decision", "allow")]));
        let (_, body, _) = submitted(plan(&buttons, &[], &INPUTS, Consent::Deny));
        assert_eq!(body, pairs(&[("t", "1"), ("decision", "deny")]));

        let only_approve =
            page(r#"<form method="post" action="/c"><button>Looks good</button></form>"#);
        assert!(plan(&only_approve, &[], &INPUTS, Consent::Approve).is_ok());
        assert_eq!(
            plan(&only_approve, &[], &INPUTS, Consent::Deny).err(),
            Some(Problem::NoControl {
                choice: Consent::Deny,
                seen: vec!["Looks good".into()]
            })
        );
    }

    #[test]
    fn a_form_its_script_submits_on_load_is_submitted_with_its_hidden_fields() {
        let auto = page(
            r#"<script>document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit() });</script>
            <form action="http://idp.test/device" method="post">
            <input name="xsrf" type="hidden" value="x1"><input name="user_code" type="hidden" value="ABCD-EFGH">
            <noscript><button type="submit">Continue</button></noscript></form>"#,
        );
        for consent in [Consent::Approve, Consent::Deny] {
            let (url, body, _) = submitted(plan(&auto, &[], &INPUTS, consent));
            assert_eq!(url, "http://idp.test/device");
            assert_eq!(body, pairs(&[("xsrf", "x1"), ("user_code", "ABCD-EFGH")]));
        }
    }

    #[test]
    fn a_page_without_a_form_says_so() {
        let script = page(
            r#"<title>Sign in</title><div id="app"></div><script>render()</script><a href="/help">Help</a>"#,
        );
        assert_eq!(
            plan(&script, &[], &INPUTS, Consent::Approve).err(),
            Some(Problem::NoForm)
        );
        let search = page(r#"<form action="/s"><input name="q"><button>Search</button></form>"#);
        assert!(
            plan(&search, &[], &INPUTS, Consent::Approve).is_err(),
            "a form to type into is not a consent form"
        );
    }
}
