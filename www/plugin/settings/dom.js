// Element building for the settings tab. Text goes in through textContent only, never
// through innerHTML: contact names, list names and error details come from outside.
// No inline style attributes either, so the tab works under a strict CSP.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Creates an element. `props`: `class`, `text`, `on` ({event: handler}), attributes
 * (`id`, `for`, `type`, aria-*, data-* ...), and the boolean/value properties
 * `checked`, `disabled`, `value`, `open`, `selected`, `hidden`.
 * @example el("button", { type: "button", text: t("run.syncNow"), on: { click: go } })
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  applyProps(node, props);
  append(node, children);
  return node;
}

/** SVG element (the history chart); attributes only, never style. */
export function svg(tag, attrs = {}, children = []) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = String(v);
    else if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  append(node, children);
  return node;
}

const PROPERTIES = new Set(["checked", "disabled", "value", "open", "selected", "hidden", "indeterminate"]);

function applyProps(node, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "on") {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (PROPERTIES.has(key)) node[key] = value;
    else if (key === "style" || key.startsWith("on")) {
      // Refused on purpose: a strict CSP blocks both, and handlers belong in `on`.
      throw new Error(`dom.el: attribute ${key} is not allowed`);
    } else node.setAttribute(key, String(value));
  }
}

function append(node, children) {
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A labelled checkbox: the label wraps the input, so clicking the text toggles it. */
export function checkbox(id, label, checked, onChange, extra = {}) {
  const input = el("input", { type: "checkbox", id, checked: !!checked, on: { change: (e) => onChange(e.target.checked) }, ...extra });
  return el("label", { class: "cs-check", for: id }, [input, el("span", { text: label })]);
}

/** A labelled select; `options` are [{value, label}]. */
export function select(id, label, options, value, onChange, { hideLabel = false, ...extra } = {}) {
  const control = el("select", { id, on: { change: (e) => onChange(e.target.value, e.target) }, ...extra },
    options.map((o) => el("option", { value: o.value, text: o.label, selected: o.value === value, disabled: o.disabled })));
  control.value = value ?? "";
  if (hideLabel) {
    control.setAttribute("aria-label", label);
    return control;
  }
  return el("div", { class: "cs-field" }, [el("label", { for: id, text: label }), control]);
}

/** A labelled text-like input that reports on change (blur or Enter), not on each key. */
export function input(id, label, value, onChange, { type = "text", hint, ...extra } = {}) {
  const hintId = hint ? `${id}-hint` : undefined;
  const control = el("input", { id, type, value: value ?? "", "aria-describedby": hintId, on: { change: (e) => onChange(e.target.value, e.target) }, ...extra });
  return el("div", { class: "cs-field" }, [
    el("label", { for: id, text: label }),
    control,
    hint ? el("p", { id: hintId, class: "cs-hint", text: hint }) : null,
  ]);
}

/** A button; `busy` buttons are disabled while their promise runs. */
export function button(label, onClick, { kind = "secondary", id, ...extra } = {}) {
  return el("button", { type: "button", id, class: `cs-btn cs-btn-${kind}`, on: { click: onClick }, ...extra }, [label]);
}

/** A group of radio buttons in a fieldset with a legend. */
export function radios(name, legend, options, value, onChange) {
  return el("fieldset", { class: "cs-radios" }, [
    el("legend", { text: legend }),
    ...options.map((o) => {
      const id = `${name}-${o.value}`;
      return el("div", { class: "cs-radio" }, [
        el("input", { type: "radio", id, name, value: o.value, checked: o.value === value, "aria-describedby": o.hint ? `${id}-hint` : undefined, on: { change: () => onChange(o.value) } }),
        el("label", { for: id, text: o.label }),
        o.hint ? el("p", { id: `${id}-hint`, class: "cs-hint", text: o.hint }) : null,
      ]);
    }),
  ]);
}
