// oauth-test-client: small progressive enhancements. Every page works without this script.
// - Copy buttons: <button class="copy" data-copy="text"> or data-copy-from="element id";
//   they are rendered `hidden` and shown here, since they need JavaScript.
// - Expiry: <span data-expires-at="unix seconds"> becomes a live countdown in local time.
// - Clean URL: <meta name="oauth-test-client:clean-url" content="/"> on the result page
//   replaces the callback URL (with its code and state) in the history, so Back and reload
//   land on that page instead of replaying a used state.
// Served from /assets/app.js under `script-src 'self'`: no inline code, no eval.
(function () {
  'use strict';

  var clean = document.querySelector('meta[name="oauth-test-client:clean-url"]');
  if (clean && window.history && history.replaceState) {
    history.replaceState(null, '', clean.getAttribute('content'));
  }

  var status = document.getElementById('copy-status');

  function say(text) {
    if (status) status.textContent = text;
  }

  // A hidden textarea and execCommand, for browsers without the async clipboard API (or
  // where it refuses, e.g. a page opened over plain http on another host).
  function legacyCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand('copy');
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok;
  }

  function copy(text) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).catch(function () {
        if (!legacyCopy(text)) throw new Error('copy refused');
      });
    }
    return legacyCopy(text) ? Promise.resolve() : Promise.reject(new Error('copy refused'));
  }

  function textFor(button) {
    var from = button.getAttribute('data-copy-from');
    if (from) {
      var source = document.getElementById(from);
      return source ? source.textContent : '';
    }
    return button.getAttribute('data-copy') || '';
  }

  // The button's visible word is in <span class="label">; the rest of its name (which token)
  // stays, so its accessible name always contains what it shows.
  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (button) {
    var label = button.querySelector('.label') || button;
    var word = label.textContent;
    var what = button.getAttribute('data-what') || 'The text';
    var timer;
    button.hidden = false;
    button.addEventListener('click', function () {
      clearTimeout(timer);
      copy(textFor(button)).then(function () {
        label.textContent = 'Copied';
        button.classList.add('done');
        say(what + ' was copied to the clipboard.');
      }, function () {
        label.textContent = 'Copy failed';
        say(what + ' could not be copied: select it and copy it by hand.');
      }).then(function () {
        timer = setTimeout(function () {
          label.textContent = word;
          button.classList.remove('done');
        }, 2000);
      });
    });
  });

  function duration(secs) {
    var h = Math.floor(secs / 3600);
    var m = Math.floor((secs % 3600) / 60);
    var s = secs % 60;
    if (h > 0) return h + ' h ' + m + ' min ' + s + ' s';
    if (m > 0) return m + ' min ' + s + ' s';
    return s + ' s';
  }

  var expiries = Array.prototype.slice.call(document.querySelectorAll('[data-expires-at]'));
  function tick() {
    var now = Math.floor(Date.now() / 1000);
    expiries.forEach(function (el) {
      var at = parseInt(el.getAttribute('data-expires-at'), 10);
      if (!isFinite(at)) return;
      var local = new Date(at * 1000).toLocaleString();
      var left = at - now;
      el.textContent = left > 0
        ? 'expires in ' + duration(left) + ', at ' + local + ' (local time)'
        : 'expired ' + duration(-left) + ' ago, at ' + local + ' (local time)';
      el.classList.toggle('expired', left <= 0);
    });
  }
  if (expiries.length) {
    tick();
    setInterval(tick, 1000);
  }

  document.documentElement.classList.add('js');
}());
