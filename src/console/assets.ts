/**
 * The console's only script and stylesheet, served by the service itself (CSP `script-src 'self'`): no inline
 * script, nothing from another origin. The script writes text only (textContent), never markup.
 */

export const CONSOLE_JS = `'use strict';
(function () {
  function span(ms) {
    if (ms <= 0) return 'expired';
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + (s % 60) + 's';
  }
  function tick() {
    var els = document.querySelectorAll('[data-expires]');
    for (var i = 0; i < els.length; i++) els[i].textContent = span(Date.parse(els[i].getAttribute('data-expires')) - Date.now());
  }
  tick();
  setInterval(tick, 1000);

  var table = document.querySelector('[data-poll]');
  if (!table) return;
  var url = table.getAttribute('data-poll'), tries = 0;
  function cells(attr, arn) {
    var all = document.querySelectorAll('[' + attr + ']'), out = [];
    for (var i = 0; i < all.length; i++) if (all[i].getAttribute(attr) === arn) out.push(all[i]);
    return out;
  }
  function poll() {
    tries++;
    fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        var done = true;
        body.roles.forEach(function (role) {
          cells('data-role', role.roleArn).forEach(function (c) { c.textContent = role.state; c.className = 'state-' + role.state; });
          cells('data-role-error', role.roleArn).forEach(function (c) { c.textContent = role.error || ''; });
          if (role.state === 'pending') done = false;
        });
        var overall = document.getElementById('overall');
        if (overall) overall.textContent = done ? 'applied' : 'pending';
        if (!done && tries < 600) setTimeout(poll, 1000);
      })
      .catch(function () { if (tries < 600) setTimeout(poll, 2000); });
  }
  poll();
})();
`;

export const CONSOLE_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1b2a3a;color:#fff;padding:.6em 1em;display:flex;gap:1.5em;align-items:center;flex-wrap:wrap}
header a{color:#cfe3ff;margin-right:1em}header .who{color:#ddd}
main{padding:1em 1.5em}h1{font-size:1.4em;margin:.2em 0 .6em}h2{font-size:1.1em;margin-top:1.4em}
table{border-collapse:collapse;background:#fff;margin:.4em 0}th,td{border:1px solid #d8dde3;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eef1f4}.facts th{width:12em}.arn{font-family:ui-monospace,monospace;font-size:12px}td.arn{max-width:15em;word-break:break-all}
pre{background:#fff;border:1px solid #d8dde3;padding:.6em;overflow:auto;max-width:70em}
form.inline{display:inline}.filters label{margin-right:.5em;white-space:nowrap}.filters input{width:7.5em}td.actions{white-space:nowrap}#sessions{font-size:13px}
button,.button{background:#2d6cdf;color:#fff;border:0;border-radius:3px;padding:.35em .8em;cursor:pointer;text-decoration:none;display:inline-block}
button.danger{background:#c62828}.error{color:#b00020;font-weight:600}
.state-applied,.approval-approved,.approval-collected{color:#1b7f3b;font-weight:600}.state-pending,.approval-pending{color:#b26a00;font-weight:600}
.state-compacted{color:#1b5e9f;font-weight:600}.approval-denied,.approval-expired{color:#b00020}
.totals-row{display:flex;gap:2em}.totals caption{text-align:left;font-weight:600}ul.issuers{list-style:none;padding:0}ul.issuers li{margin:.4em 0}
`;
