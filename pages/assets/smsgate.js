// smsgate's pages work without this file; with it:
// - "send again" counts down until it is allowed;
// - WebOTP (navigator.credentials.get({otp})) fills in a code that arrives
//   by SMS and submits it; so does pasting a whole code. Typing does not
//   auto-submit, so that typing stays predictable.
(function () {
  "use strict";

  // The countdown on "send again".
  document.querySelectorAll("[data-resend-in]").forEach(function (button) {
    var left = parseInt(button.getAttribute("data-resend-in"), 10);
    var label = button.getAttribute("data-label") || button.textContent;
    if (!(left > 0)) return;
    button.disabled = true;
    var tick = function () {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = label + " (" + left + " s)";
      left--;
      setTimeout(tick, 1000);
    };
    tick();
  });

  // Delivery receipts: while the text is on its way, ask now and then
  // whether it arrived; when it did not, say so and offer the call.
  var delivery = document.getElementById("delivery");
  if (delivery && delivery.getAttribute("data-status") && !delivery.textContent) {
    var asked = 0;
    var ask = function () {
      if (asked++ > 40) return; // two minutes
      fetch(delivery.getAttribute("data-status"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (res) { return res.json(); })
        .then(function (s) {
          if (s.delivery === "delivered") {
            delivery.textContent = delivery.getAttribute("data-delivered");
          } else if (s.delivery === "failed") {
            delivery.textContent = delivery.getAttribute("data-failed");
            var call = document.getElementById("call");
            if (call) call.classList.add("offered");
          } else {
            setTimeout(ask, 3000);
          }
        })
        .catch(function () { setTimeout(ask, 3000); });
    };
    setTimeout(ask, 2000);
  }

  // Copy, and say "Copied" on the button every time (then its label again).
  var copy = function (button, text) {
    if (!navigator.clipboard) return;
    navigator.clipboard.writeText(text).then(function () {
      var label = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", label);
      button.textContent = button.getAttribute("data-copied") || label;
      clearTimeout(button.copiedTimer);
      button.copiedTimer = setTimeout(function () { button.textContent = label; }, 2000);
    });
  };
  document.querySelectorAll("[data-copy-text]").forEach(function (b) {
    b.hidden = !navigator.clipboard;
    b.addEventListener("click", function () { copy(b, b.getAttribute("data-copy-text")); });
  });

  // Recovery codes: copy, download as a text file, print.
  var actions = document.getElementById("code-actions");
  if (actions) {
    actions.hidden = false;
    var codesText = function () {
      return Array.prototype.map.call(document.querySelectorAll("#codes code"), function (c) { return c.textContent; }).join("\n") + "\n";
    };
    actions.addEventListener("click", function (event) {
      var b = event.target.closest("button");
      if (!b) return;
      if (b.hasAttribute("data-copy")) {
        copy(b, codesText());
      } else if (b.hasAttribute("data-download")) {
        // The file says whose codes they are, for which site, made when.
        var header = b.getAttribute("data-header");
        var a = document.createElement("a");
        a.href = URL.createObjectURL(new Blob([(header ? header + "\n\n" : "") + codesText()], { type: "text/plain" }));
        a.download = b.getAttribute("data-filename");
        document.body.appendChild(a);
        a.click();
        a.remove();
      } else if (b.hasAttribute("data-print")) {
        window.print();
      }
    });
  }

  // "Continue" waits for "I have saved these codes" (without this script,
  // the link simply works).
  var saved = document.getElementById("saved"), next = document.getElementById("continue");
  if (saved && next) {
    var sync = function () { next.setAttribute("aria-disabled", String(!saved.checked)); };
    sync();
    saved.addEventListener("change", sync);
    next.addEventListener("click", function (event) { if (!saved.checked) { event.preventDefault(); saved.focus(); } });
  }

  // The country picker: the example number follows the country.
  var region = document.getElementById("region"), phoneField = document.getElementById("phone");
  if (region && phoneField) {
    region.addEventListener("change", function () {
      var opt = region.options[region.selectedIndex];
      if (opt && opt.getAttribute("data-example")) phoneField.placeholder = opt.getAttribute("data-example");
    });
  }

  // A lockout counts down, then the page comes back to life.
  document.querySelectorAll("[data-locked-for]").forEach(function (span) {
    var left = parseInt(span.getAttribute("data-locked-for"), 10);
    var label = span.getAttribute("data-label");
    var tick = function () {
      if (left <= 0) {
        window.location.reload();
        return;
      }
      span.textContent = label.replace("{n}", left);
      left--;
      setTimeout(tick, 1000);
    };
    tick();
  });

  var input = document.querySelector("input[name=code]");
  if (!input) return;
  var length = parseInt(input.getAttribute("maxlength"), 10) || 6;
  var submit = function () {
    if (input.form.requestSubmit) input.form.requestSubmit();
    else input.form.submit();
  };

  // A pasted whole code is submitted at once.
  input.addEventListener("paste", function (event) {
    var text = (event.clipboardData || window.clipboardData).getData("text") || "";
    var digits = text.replace(/[\s-]/g, "");
    if (new RegExp("^\\d{" + length + "}$").test(digits)) {
      event.preventDefault();
      input.value = digits;
      submit();
    }
  });

  // WebOTP: the browser reads the origin-bound line "@host #code".
  if ("OTPCredential" in window && navigator.credentials && navigator.credentials.get) {
    var abort = new AbortController();
    input.form.addEventListener("submit", function () { abort.abort(); });
    // A browser runs one credential request at a time: a passkey goes first.
    document.addEventListener("smsgate:passkey", function () { abort.abort(); });
    navigator.credentials.get({ otp: { transport: ["sms"] }, signal: abort.signal })
      .then(function (otp) {
        if (otp && otp.code) {
          input.value = otp.code;
          submit();
        }
      })
      .catch(function () { /* no code, or the user typed it: nothing to do */ });
  }
})();

// Passkeys: a button with data-passkey="register" or "login" runs the
// WebAuthn ceremony through the gate's JSON endpoints (data-begin, then
// data-finish) and follows the answer's redirect; a refusal is shown in
// the element named by data-status.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-passkey]");
  if (!buttons.length) return;
  if (!window.PublicKeyCredential || !navigator.credentials || !navigator.credentials.create) {
    buttons.forEach(function (b) { b.hidden = true; });
    return;
  }
  function bytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); });
  }
  function text(buf) {
    var s = "";
    new Uint8Array(buf).forEach(function (b) { s += String.fromCharCode(b); });
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body || {}),
      headers: { "Content-Type": "application/json", "Accept": "application/json" }
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) throw new Error(j.message || ("HTTP " + r.status));
        return j;
      });
    });
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      var status = document.getElementById(button.dataset.status);
      var register = button.dataset.passkey === "register";
      if (status) status.textContent = "";
      button.disabled = true;
      document.dispatchEvent(new Event("smsgate:passkey"));
      post(button.dataset.begin).then(function (begin) {
        var pk = begin.publicKey;
        pk.challenge = bytes(pk.challenge);
        (pk.excludeCredentials || []).concat(pk.allowCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
        if (register) {
          pk.user.id = bytes(pk.user.id);
          return navigator.credentials.create({ publicKey: pk });
        }
        return navigator.credentials.get({ publicKey: pk });
      }).then(function (cred) {
        var r = cred.response, answer = { id: cred.id, rawId: text(cred.rawId), type: cred.type, response: { clientDataJSON: text(r.clientDataJSON) } };
        if (register) {
          answer.response.attestationObject = text(r.attestationObject);
          answer.response.transports = r.getTransports ? r.getTransports() : [];
        } else {
          answer.response.authenticatorData = text(r.authenticatorData);
          answer.response.signature = text(r.signature);
          if (r.userHandle) answer.response.userHandle = text(r.userHandle);
        }
        var finish = button.dataset.finish, name = button.dataset.name && document.getElementById(button.dataset.name);
        if (name && name.value.trim()) finish += "?name=" + encodeURIComponent(name.value.trim());
        return post(finish, answer);
      }).then(function (done) {
        location.assign(done.redirect || location.href);
      }).catch(function (e) {
        button.disabled = false;
        if (status) status.textContent = e.message;
      });
    });
  });
})();
