/* CES widget, see docs/widget.md. No dependency; one global name: `ces`. */
((w, d) => {
  const old = w.ces;
  if (old?.l) return;
  const s = d.currentScript || [...d.scripts].filter(e => /widget(\.min)?\.js([?#]|$)/.test(e.src)).pop();
  const cfg = s?.dataset || {}, site = cfg.site;
  let url;
  try { url = new URL(cfg.api || s.src, location).origin.replace(/^http/, 'ws') + '/ws'; } catch {}

  // The buttons' texts (close, send, skip, thanks) come with each prompt, in the user's language
  // (server/ces/core/texts.py): five languages would not fit in the size budget.

  // :host rules get !important: an inner !important beats the page's !important (and every
  // declaration needs it, or the important `all:initial` would override it).
  const CSS = (':host{all:initial;display:block;position:fixed;z-index:2147483647;right:12px;bottom:12px;' +
    'width:360px;max-width:calc(100vw - 24px)}' +
    ':host([data-ces=bl]){right:auto;left:12px}' +
    ':host([data-ces=i]){position:static;width:auto;max-width:none}').replace(/[;}]/g, '!important$&') +
    '*{box-sizing:border-box;margin:0;font:inherit;color:inherit}' +
    '.w{--b:#fff;--f:#1b1b1b;--m:#4d4d4d;--l:#767676;position:relative;width:100%;max-width:420px;background:var(--b);' +
    'color:var(--f);font:15px/1.4 system-ui,sans-serif;padding:14px;border:1px solid var(--l);border-radius:8px;' +
    'animation:u .2s}.w:modal{position:fixed;margin:auto;width:420px;max-width:calc(100% - 24px)}::backdrop{background:#0009}.d{--b:#1f1f1f;--f:#f2f2f2;--m:#c4c4c4;--l:#8c8c8c}' +
    '@keyframes u{from{transform:translateY(8px)}}@media(prefers-reduced-motion:reduce){.w{animation:none}}' +
    '.q{font-weight:600;margin:0 30px 12px 0}' +
    'button,textarea{background:var(--b);border:1px solid var(--l);border-radius:6px}button{cursor:pointer}' +
    '.x{position:absolute;top:6px;right:6px;width:32px;height:32px;border:0;font-size:22px}' +
    // No padding on the points: eleven of them (0-10) must fit "10" inside its border at 320 px.
    '.o{display:flex;gap:4px}.o button{flex:1;min-width:0;height:40px;padding:0}' +
    '@media(max-width:400px){.w{padding:10px}.o{gap:2px}.o:not(.v) button{font-size:13px}}' +
    '.v{flex-direction:column}.v button{text-align:left;padding:0 12px}' +
    '.o button:hover,[aria-checked=true],.p{background:var(--c);color:var(--k);border-color:var(--c)}' +
    '.e{display:flex;justify-content:space-between;margin-top:6px;font-size:13px;color:var(--m)}' +
    ':focus-visible{outline:2px solid var(--f);outline-offset:2px}textarea{width:100%;height:72px;padding:8px}' +
    '.b{display:flex;justify-content:flex-end;gap:8px;margin-top:8px}.b button{padding:8px 14px}';

  const warn = (...a) => console.warn('ces:', ...a);
  // localStorage (or sessionStorage), JSON-encoded; never throws (storage may be disabled).
  const store = (k, v, s = 'localStorage') => {
    try { return v ? w[s]['ces_' + k] = JSON.stringify(v) : JSON.parse(w[s]['ces_' + k]); } catch {}
  };
  const rid = () => crypto.getRandomValues(new Uint32Array(3)).join('');
  const newAnon = () => store('anon', anon = 'anon-' + rid());
  // This tab's visit: its id, renewed after 30 minutes without activity (docs/widget.md).
  const visit = (n = Date.now(), v = store('v', 0, 'sessionStorage')) => {
    if (!(n - v?.t < 18e5)) v = { i: rid() };
    v.t = n;
    store('v', v, 'sessionStorage');
    return v.i;
  };

  let anon = store('anon'), user = cfg.user, hash = cfg.userHash, traits = {};
  let ws, ready, quiet, timer, tries = 0, queue = [], hs = {}, cur, later = [], seen = {};
  if (!anon) newAnon();
  const who = () => user || anon;
  const loc = () => cfg.locale || traits.locale || navigator.language;

  // ---- connection ----
  const raw = m => { try { ws.send(JSON.stringify(m)); } catch {} };
  const send = m => ready ? raw(m) : queue.push(m) > 99 && queue.shift();
  // identify/reset: the next hello carries them when no socket is open.
  const now = m => ws?.readyState == 1 && raw(m);
  const connect = () => {
    clearTimeout(timer);
    if (quiet || ws || !site || !url) return;
    let me;
    try { me = ws = new WebSocket(url); } catch (e) { return warn(e); }
    ws.onopen = () => raw({
      type: 'hello', site, user: who(), user_hash: user && hash || void 0, anonymous: !user, locale: loc(), traits,
      visit: visit()
    });
    ws.onmessage = e => me == ws && recv(e.data);
    ws.onclose = () => {
      if (me != ws) return;
      ws = ready = 0;
      // Exponential backoff with jitter: 0.25-0.5 s, 0.5-1 s, 1-2 s ... up to 15-30 s
      // (data-retry-max: another cap in ms, e.g. for tests).
      if (!quiet) timer = setTimeout(connect, Math.min(+cfg.retryMax || 3e4, 500 * 2 ** tries++) * (1 + Math.random()) / 2);
    };
  };

  // ---- answers and comments stay in localStorage until acked ----
  const box = () => store('out') || {};
  const durable = m => {
    const b = box();
    b[m.id] = { m, u: who(), t: Date.now() };
    store('out', b);
    ready && raw(m);
  };
  const drop = id => {
    const b = box();
    if (b[id]) delete b[id], store('out', b);
  };

  const H = {
    welcome() {
      ready = 1; tries = 0;
      const b = box();
      for (const k in b) {
        if (Date.now() - b[k].t > 864e6) delete b[k];
        else if (b[k].u == who()) raw(b[k].m);
      }
      store('out', b);
      queue.splice(0).forEach(raw);
    },
    prompt: m => add(m.prompt),
    close(m) {
      seen[m.prompt] = 1;
      later = later.filter(p => p.id != m.prompt);
      if (cur?.id == m.prompt && cur.a == null) hide();
    },
    ack: m => drop(m.ref),
    error({ code, message, ref }) {
      // origin_not_allowed: quiet, as for a wrong key. rate_limited: the answer stays in the box for the next welcome.
      if (/^(unknown_site|bad_user_hash|origin_.*)$/.test(code)) quiet = code, ws?.close();
      else if (!/^(internal|not_identified|rate_.*)$/.test(code)) drop(ref);
      warn(code, message);
    }
  };
  const recv = t => {
    let m;
    try { m = JSON.parse(t); } catch {}
    if (!H.hasOwnProperty(m?.type)) return warn('ignored', t);
    try { H[m.type](m); } catch (e) { warn(e); }
  };

  // ---- prompts ----
  // Milliseconds left before the prompt's expires_at (server epoch seconds, compared with this
  // device's clock); no or a bad expires_at: never.
  const ttl = p => (+p.expires_at || 1e10) * 1e3 - Date.now();
  const add = p => {
    const v = p?.survey;
    if (!p.id || !(v?.max - v.min < 21 && v.min <= v.max)) return warn('ignored', p);
    if (!seen[p.id] && !box()['a' + p.id] && cur?.id != p.id && !later.some(x => x.id == p.id)) later.push(p), next();
  };
  // Expired prompts are dropped here, before they are shown.
  const next = () => {
    later = later.filter(p => ttl(p) > 0);
    !cur && later[0] && !d.hidden && show(later.shift());
  };
  const emit = (n, x) => (hs[n] || []).forEach(f => { try { f(x); } catch (e) { warn(e); } });
  const el = (tag, at, txt, up) => {
    const e = d.createElement(tag);
    for (const k in at) e.setAttribute(k, at[k]);
    if (txt != null) e.textContent = txt;
    up?.appendChild(e);
    return e;
  };
  // Black or white, whichever contrasts more with the brand colour.
  const ink = h => {
    h = h.length < 5 ? h.replace(/\w/g, '$&$&') : h;
    const l = [.2126, .7152, .0722].reduce((a, k, i) => {
      const c = parseInt(h.substr(1 + 2 * i, 2), 16) / 255;
      return a + k * (c < .04 ? c / 12.92 : ((c + .055) / 1.055) ** 2.4);
    }, 0);
    return l > .18 ? '#000' : '#fff';
  };

  const show = p => {
    const v = p.survey, a = v.appearance || {}, pl = a.placement, host = el('div'), labels = v.labels || [];
    const t = v.ui || [];
    const c = /^#([\da-f]{3}){1,2}$/i.test(a.color) ? a.color : '#2a55c9';
    const root = host.attachShadow({ mode: 'open' }), modal = pl == 'center', many = labels.some(x => x);
    let target;
    if (pl == 'inline') try { target = d.querySelector(a.target); } catch {}
    host.setAttribute('data-ces', target ? 'i' : modal ? 'c' : pl == 'bottom-left' ? 'bl' : 'br');
    el('style', {}, CSS, root);
    // Inline: a labelled region; otherwise a native dialog (modal for the centre placement).
    const card = el(target ? 'section' : 'dialog', {
      class: a.theme == 'dark' || a.theme != 'light' && matchMedia('(prefers-color-scheme:dark)').matches ? 'w d' : 'w',
      'aria-labelledby': 'q', lang: v.locale || 'en'
    }, null, root);
    card.style.cssText = `--c:${c};--k:${ink(c)}`;
    el('button', { type: 'button', class: 'x', 'aria-label': t[0] }, '\u00d7', card).onclick = dismiss;
    const body = el('div', {}, null, card);
    cur = p; p.h = host; p.f = d.activeElement;

    const stage = q => {
      body.textContent = '';
      return el('p', { id: 'q', class: 'q', tabindex: -1 }, q, body);
    };
    const thanks = () => { stage(t[3]).focus(); p.t = setTimeout(hide, 2500); };
    stage(v.question);
    const o = el('div', { role: 'radiogroup', 'aria-labelledby': 'q', class: many ? 'o v' : 'o' }, null, body);
    for (let i = v.min; i <= v.max; i++) {
      const lb = labels[i - v.min], end = i == v.min ? v.low_label : i == v.max && v.high_label;
      el('button', {
        type: 'button', role: 'radio', 'aria-checked': false, tabindex: i == v.min ? 0 : -1, 'data-s': i,
        'aria-label': lb || (end ? i + ', ' + end : i)
      }, lb || i, o);
    }
    if (!many && (v.low_label || v.high_label)) {
      const e = el('div', { class: 'e', 'aria-hidden': true }, null, body);
      el('span', {}, v.low_label, e);
      el('span', {}, v.high_label, e);
    }
    // Arrows move focus and the selection (radio pattern); Enter, Space or a click answers.
    o.onkeydown = e => {
      const bs = [...o.children], i = bs.indexOf(e.target), k = e.key, n = bs.length;
      let j = /Right|Down/.test(k) ? i + 1 : /Left|Up/.test(k) ? i - 1 : k == 'Home' ? 0 : k == 'End' ? n - 1 : null;
      if (i < 0 || j == null) return;
      e.preventDefault();
      j = (j + n) % n;
      bs.forEach((b, x) => { b.tabIndex = x == j ? 0 : -1; b.setAttribute('aria-checked', x == j); });
      bs[j].focus();
    };
    o.onclick = e => {
      let sc = e.target.getAttribute('data-s');
      if (sc == null || p.a != null) return;
      p.a = sc = +sc;
      seen[p.id] = 1;
      // Sent at once and kept until acked: the score is never lost, whatever happens next.
      durable({ type: 'answer', id: 'a' + p.id, prompt: p.id, score: sc });
      emit('answer', { prompt: p.id, survey: v.id, score: sc });
      const f = v.followup;
      if (!f || f.max_score != null && sc > f.max_score) return thanks();
      stage(f.question);
      const ta = el('textarea', { 'aria-labelledby': 'q', maxlength: 2000 }, null, body);
      const b = el('div', { class: 'b' }, null, body);
      el('button', { type: 'button' }, t[2], b).onclick = thanks;
      el('button', { type: 'button', class: 'p' }, t[1], b).onclick = () => {
        const x = ta.value.trim();
        x && durable({ type: 'comment', id: 'c' + p.id, prompt: p.id, comment: x });
        thanks();
      };
      ta.focus();
    };
    card.onkeydown = e => {
      if (e.key == 'Escape') e.preventDefault(), dismiss();
      // The centre modal keeps focus inside: Tab wraps from the last control to the first.
      if (e.key == 'Tab' && modal) {
        const f = [...card.querySelectorAll("*")].filter(x => x.tabIndex >= 0), a = root.activeElement;
        e.shiftKey && f.reverse();
        if (a == f.at(-1) || !f.includes(a)) e.preventDefault(), f[0].focus();
      }
    };
    // Expired while on screen and not answered: it goes away, as on the server's `close`.
    setTimeout(H.close, Math.min(ttl(p), 2e9), { prompt: p.id });
    (target || d.documentElement).appendChild(host);
    target || card[modal ? 'showModal' : 'show']();
    root.querySelector('[tabindex="0"]').focus({ preventScroll: !target });
    send({ type: 'shown', prompt: p.id });
    emit('shown', { prompt: p.id, survey: v.id });
  };
  const dismiss = () => {
    if (cur.a == null) {
      seen[cur.id] = 1;
      send({ type: 'dismiss', prompt: cur.id });
      emit('dismiss', { prompt: cur.id, survey: cur.survey.id });
    }
    hide();
  };
  const hide = () => {
    if (!cur) return;
    const { h, f } = cur, had = d.activeElement == h;
    clearTimeout(cur.t);
    h.remove();
    cur = 0;
    if (had && f?.isConnected) f.focus({ preventScroll: true });
    next();
  };
  const clear = () => { later = []; hide(); };

  // ---- commands ----
  const C = {
    identify(u, tr, h) {
      if (u == null) return warn('no user');
      u += '';
      if (u != user) clear();
      user = u; hash = h; traits = tr || {};
      if (quiet == 'bad_user_hash') quiet = 0, connect();
      else now({ type: 'identify', user: u, user_hash: h, traits, locale: loc() });
    },
    track(name, pr) {
      if (typeof name != 'string') return warn('no name');
      send({ type: 'event', name, properties: pr || {}, event_id: rid(), visit: visit() });
    },
    reset() {
      clear();
      user = hash = 0; traits = {};
      newAnon();
      now({ type: 'reset', user: anon });
    },
    on(n, f) { if (typeof f == 'function') (hs[n] = hs[n] || []).push(f); }
  };
  const run = ([c, ...a]) => {
    if (!C.hasOwnProperty(c)) return warn('unknown', c);
    try { C[c](...a); } catch (e) { warn(e); }
  };
  w.ces = (...a) => run(a);
  w.ces.l = 1;
  (old?.q || []).forEach(run);
  // data-pageviews: each page (and single-page navigation) is a `page_view` event with its path;
  // data-pageviews="query" adds the query string.
  let path;
  const page = () => {
    const p = location.pathname + (cfg.pageviews == 'query' ? location.search : '');
    p != path && C.track('page_view', { path: path = p });
  };
  if (cfg.pageviews != null) {
    for (const k of ['pushState', 'replaceState']) {
      const f = history[k];
      history[k] = function () { f.apply(this, arguments); page(); };
    }
    w.addEventListener('popstate', page);
    page();
  }
  d.addEventListener('visibilitychange', next);
  w.addEventListener('online', () => { tries = 0; connect(); });
  site ? connect() : warn('no data-site');
})(window, document);
