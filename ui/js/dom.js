// Small DOM helpers: build elements without innerHTML for anything that came
// from a person (names, search queries). Course HTML is the one exception:
// the compiler sanitised it and the package signature vouches for it.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "html") el.innerHTML = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let uid = 0;
export function nextId(prefix = "id") {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled form field: <div class="field"><label for>…</label><input id></div>.
export function field(labelText, input, hint) {
  const id = input.id || nextId("f");
  input.id = id;
  const label = h("label", { for: id }, h("span", { text: labelText }));
  if (hint) {
    const hintId = `${id}-hint`;
    label.append(h("span", { class: "hint", id: hintId, text: hint }));
    input.setAttribute("aria-describedby", hintId);
  }
  return h("div", { class: "field" }, label, input);
}

// Search snippets come HTML-escaped from the learner core with the match
// between \u0002 and \u0003 (or already as <mark>); turn them into <mark>
// without interpreting anything else as HTML.
export function snippetNodes(snippet) {
  const out = [];
  const text = decodeEntities(String(snippet).replace(/<mark>/g, "\u0002").replace(/<\/mark>/g, "\u0003"));
  const re = /\u0002([^\u0003]*)\u0003/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    out.push(h("mark", { text: m[1] }));
    last = re.lastIndex;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

function decodeEntities(s) {
  const ta = document.createElement("textarea");
  ta.innerHTML = s;
  return ta.value;
}

export function percent(fraction) {
  return Math.round((fraction || 0) * 100);
}

export function progressBar(fraction, label) {
  const p = percent(fraction);
  return h(
    "div",
    { class: "progress-bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": p, "aria-label": label },
    h("span", { class: `w-${p}` })
  );
}

// Widths by class (inline style attributes would need 'unsafe-inline' in the
// CSP): set through the CSSOM, which the CSP allows.
export function sizeBars(root) {
  for (const el of root.querySelectorAll(".progress-bar > span")) {
    const m = /w-(\d+)/.exec(el.className);
    if (m) el.style.inlineSize = `${m[1]}%`;
  }
}
