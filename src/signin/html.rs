//! Reading one element of a parsed page (`scraper`): its text as a browser renders it, whether
//! it is hidden, an attribute in lower case.

use scraper::{ElementRef, Selector};

pub fn selector(css: &'static str) -> Selector {
    // Only constant selectors, each exercised by page.rs's tests.
    Selector::parse(css).expect("a constant CSS selector parses")
}

/// Whitespace collapsed, trimmed.
pub fn squash(text: impl Iterator<Item = impl AsRef<str>>) -> String {
    let mut out = String::new();
    for part in text {
        for word in part.as_ref().split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// An element's text, its text nodes joined as a browser renders them, whitespace collapsed.
pub fn text_of(el: ElementRef<'_>) -> String {
    squash(std::iter::once(el.text().collect::<String>()))
}

pub fn cut(mut text: String, max: usize) -> String {
    if let Some((i, _)) = text.char_indices().nth(max) {
        text.truncate(i);
        text.push('…');
    }
    text
}

/// Not hidden by the `hidden` attribute, `aria-hidden`, an inline `display:none` /
/// `visibility:hidden`, or a `<template>`, on itself or an ancestor.
pub fn visible(el: ElementRef<'_>) -> bool {
    let mut node = Some(el);
    while let Some(e) = node {
        let v = e.value();
        let style = v
            .attr("style")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .replace(' ', "");
        if v.attr("hidden").is_some()
            || v.attr("aria-hidden") == Some("true")
            || style.contains("display:none")
            || style.contains("visibility:hidden")
            || v.name() == "template"
        {
            return false;
        }
        node = e.parent().and_then(ElementRef::wrap);
    }
    true
}

pub fn attr_lower(el: ElementRef<'_>, name: &str) -> String {
    el.value()
        .attr(name)
        .unwrap_or_default()
        .to_ascii_lowercase()
}
