// The browser driver's hands and eyes inside the page (src/signin/browser/mod.rs).
// `read()` describes the page in the shape of the http driver's reader (src/signin/page.rs):
// forms with their fields (raw type, autocomplete, name and id: the Rust side gives each its
// role by the same rules) and submit controls, links, visible error messages. It keeps the
// elements in window.__otcRefs, by the same indices, for `act(...)`, which types into the
// fields and presses the control the Rust side chose. No field's value ever leaves the page.
// Each call is sent whole (one expression), so a new document needs nothing installed.
((call) => {
  const squash = (t) => String(t || '').replace(/\s+/g, ' ').trim();
  const cut = (t, max) => (t.length > max ? `${t.slice(0, max)}…` : t);
  const lower = (el, a) => (el.getAttribute(a) || '').toLowerCase();
  // Laid out, not display:none/visibility:hidden/opacity 0, on itself or an ancestor.
  const visible = (el) => {
    if (el.closest('[hidden], [aria-hidden="true"], template')) return false;
    if (typeof el.checkVisibility === 'function') {
      return el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
    }
    return el.getClientRects().length > 0;
  };
  const resolve = (href) => {
    try { return new URL(href, document.baseURI).href; } catch { return null; }
  };

  function read() {
    const controlSel = 'input, button, select, textarea';
    const forms = [];
    const refs = { forms: [], links: [] };
    const describe = (action, method, controls, form) => {
      const fields = []; const fieldEls = []; const submits = []; const submitEls = [];
      const buttons = [];
      for (const c of controls) {
        const tag = c.tagName.toLowerCase();
        let kind = tag;
        if (tag === 'input') kind = lower(c, 'type') || 'text';
        if (tag === 'button') kind = lower(c, 'type') || 'submit';
        const name = c.getAttribute('name') || '';
        const pressable = (tag === 'input' || tag === 'button') && (kind === 'submit' || kind === 'image');
        if (pressable || (tag === 'button' && kind === 'button')) {
          if (c.disabled) continue;
          const value = tag === 'input' || c.hasAttribute('value') ? (c.getAttribute('value') || '') : '';
          const text = squash(c.innerText || c.textContent) || value;
          const entry = {
            name: name || null,
            value,
            label: squash([text, value, name, c.id, c.getAttribute('aria-label') || ''].join(' ')),
            text,
            action: c.hasAttribute('formaction') ? resolve(c.getAttribute('formaction')) : null,
            method: c.hasAttribute('formmethod') ? lower(c, 'formmethod') : null,
            visible: visible(c),
          };
          // type=button counts only in a form without a submit button (script-driven forms).
          (pressable ? submits : buttons).push([entry, c]);
          continue;
        }
        if (tag === 'button' || ['button', 'reset', 'file'].includes(kind)) continue;
        fields.push({
          name,
          kind,
          autocomplete: lower(c, 'autocomplete'),
          name_and_id: `${name} ${c.id || ''}`.toLowerCase(),
          inputmode: lower(c, 'inputmode'),
          visible: kind !== 'hidden' && visible(c),
          checked: !!c.checked,
          disabled: !!c.disabled,
        });
        fieldEls.push(c);
      }
      // Hidden buttons are not pressed when a visible one is there.
      let chosen = submits.length > 0 ? submits : buttons;
      if (chosen.some(([e]) => e.visible)) chosen = chosen.filter(([e]) => e.visible);
      for (const [entry, el] of chosen) {
        delete entry.visible;
        submitEls.push(el);
      }
      forms.push({ action, method, fields, submits: chosen.map(([e]) => e) });
      refs.forms.push({ fields: fieldEls, submits: submitEls, form });
    };
    for (const form of document.querySelectorAll('form')) {
      const controls = [...form.elements].filter((c) => c.matches(controlSel));
      const action = form.hasAttribute('action') && form.getAttribute('action').trim()
        ? resolve(form.getAttribute('action')) : location.href;
      describe(action, lower(form, 'method') === 'post' ? 'post' : 'get', controls, form);
    }
    // Controls outside any form (script-driven pages): one more "form", pressed by its buttons.
    const loose = [...document.querySelectorAll(`${controlSel}, [role="button"]`)]
      .filter((c) => !c.form && !c.closest('form') && visible(c));
    const looseControls = loose.filter((c) => c.matches(controlSel));
    const roleButtons = loose.filter((c) => !c.matches(controlSel));
    if (looseControls.length > 0 || roleButtons.length > 0) {
      describe(location.href, 'post', looseControls, null);
      const last = forms[forms.length - 1];
      for (const b of roleButtons) {
        const text = squash(b.innerText || b.textContent);
        last.submits.push({
          name: null, value: '', text,
          label: squash([text, b.id, b.getAttribute('aria-label') || ''].join(' ')),
          action: null, method: null,
        });
        refs.forms[refs.forms.length - 1].submits.push(b);
      }
    }

    const links = [];
    for (const a of document.querySelectorAll('a[href]')) {
      const raw = a.getAttribute('href');
      if (!visible(a) || raw.trim().toLowerCase().startsWith('javascript:')) continue;
      const href = resolve(raw);
      if (!href) continue;
      links.push({
        href,
        label: squash([a.innerText || a.textContent, a.getAttribute('aria-label') || '', a.getAttribute('title') || ''].join(' ')),
      });
      refs.links.push(a);
    }

    // The same rules as the http driver's reader: role=alert, aria-live=assertive, class names
    // with error/alert/danger/invalid, oidc-provider's <pre><strong>error</strong>; visible.
    const alerts = [];
    const taken = [];
    for (const el of document.querySelectorAll('body *')) {
      const tag = el.tagName.toLowerCase();
      if (['form', 'input', 'button', 'select', 'textarea', 'script', 'style', 'label'].includes(tag)) continue;
      const cls = (typeof el.className === 'string' ? el.className : el.getAttribute('class') || '').toLowerCase();
      const first = el.firstElementChild;
      const alerting = lower(el, 'role') === 'alert' || lower(el, 'aria-live') === 'assertive'
        || ['error', 'alert', 'danger', 'invalid'].some((w) => cls.includes(w))
        || (tag === 'pre' && first && first.tagName.toLowerCase() === 'strong'
          && squash(first.textContent).startsWith('error'));
      if (!alerting || !visible(el) || taken.some((t) => t.contains(el))) continue;
      if (el.querySelector('input, textarea, select')) continue;
      const text = cut(squash(el.innerText || el.textContent), 300);
      if (!text) continue;
      taken.push(el);
      if (!alerts.includes(text)) alerts.push(text);
      if (alerts.length === 4) break;
    }

    const h1 = document.querySelector('h1');
    const nav = performance.getEntriesByType('navigation')[0];
    window.__otcRefs = refs;
    return {
      url: location.href,
      status: (nav && nav.responseStatus) || 200,
      title: squash(document.title) || (h1 ? squash(h1.innerText || h1.textContent) : ''),
      forms,
      links,
      alerts,
      scripts: document.querySelectorAll('script').length,
    };
  }

  // Types as a person would, for frameworks that listen to input events (React's value
  // setter is bypassed by setting the property through the prototype's setter).
  function type(el, value) {
    el.focus();
    const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
    el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText' }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    el.setAttribute('data-otc-filled', '');
  }

  // Before a credential is typed: the top frame, and every field's frame, still on the origin
  // the driver checked, and the form still going where it was checked to go.
  function moved(expect, els, f, button) {
    if (window.top !== window || location.origin !== expect.page) return { foreign: location.origin, what: 'page' };
    for (const el of els) {
      const origin = el.ownerDocument.defaultView && el.ownerDocument.defaultView.location.origin;
      if (origin !== expect.page) return { foreign: String(origin), what: 'page' };
    }
    // formAction reads as the document's URL when the attribute is absent: the form's then.
    const action = button && button.hasAttribute('formaction') ? button.formAction
      : (f.form ? f.form.action : location.href);
    const target = new URL(action, location.href).origin;
    if (target !== expect.target) return { foreign: target, what: 'target' };
    return null;
  }

  function act({ form, submit, fills, link, expect }) {
    const refs = window.__otcRefs;
    if (!refs) return { stale: true };
    if (link !== null) {
      const a = refs.links[link];
      if (!a || !a.isConnected) return { stale: true };
      a.click();
      return { done: true };
    }
    const f = refs.forms[form];
    if (!f) return { stale: true };
    const els = fills.map(([i]) => f.fields[i]);
    const button = submit === null ? null : f.submits[submit];
    if (els.some((e) => !e || !e.isConnected) || (submit !== null && (!button || !button.isConnected))) {
      return { stale: true };
    }
    if (expect) {
      const refused = moved(expect, els, f, button);
      if (refused) return refused;
    }
    fills.forEach(([, value], n) => type(els[n], value));
    if (button) {
      button.scrollIntoView({ block: 'center' });
      button.click();
    } else if (f.form) {
      if (typeof f.form.requestSubmit === 'function') f.form.requestSubmit(); else f.form.submit();
    } else {
      // No form and no button: Enter in the last field typed into.
      const last = els[els.length - 1] || document.activeElement;
      for (const t of ['keydown', 'keypress', 'keyup']) {
        last.dispatchEvent(new KeyboardEvent(t, { key: 'Enter', code: 'Enter', keyCode: 13, which: 13, bubbles: true }));
      }
    }
    return { done: true };
  }

  // Before a page is saved or photographed: every value typed in, and every password and
  // one-time-code field, emptied.
  function blank() {
    for (const el of document.querySelectorAll('input, textarea')) {
      const t = lower(el, 'type');
      if (el.hasAttribute('data-otc-filled') || t === 'password' || lower(el, 'autocomplete').includes('one-time-code')) {
        const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
        Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, '');
        el.removeAttribute('value');
      }
    }
    return `<!DOCTYPE html>\n${document.documentElement.outerHTML}`;
  }

  // Cheap, every poll: is the document still changing?
  function probe() {
    const w = window.__otcWatch;
    return { ready: document.readyState, mutations: w ? w.mutations : -1, href: location.href };
  }

  switch (call.fn) {
    case 'read': return read();
    case 'act': return act(call);
    case 'blank': return blank();
    default: return probe();
  }
})
