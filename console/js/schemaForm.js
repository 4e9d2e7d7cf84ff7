// A form generated from a command's args JSON Schema (an object schema). Handles the shapes the
// catalogue uses: string (with enum, minLength/maxLength/pattern), number/integer, boolean, arrays of
// strings or numbers (one item per line); anything else gets a JSON text area. The server checks again.
import { field, h } from './dom.js';

export function schemaForm(schema, prefix = 'arg') {
  const props = schema?.type === 'object' || schema?.properties ? Object.entries(schema.properties ?? {}) : [];
  const required = new Set(schema?.required ?? []);
  const controls = props.map(([name, sub]) => ({ name, sub, required: required.has(name), ...control(`${prefix}-${name}`, sub, required.has(name)) }));
  const freeForm = !schema?.properties && schema?.type !== 'object';
  const raw = freeForm ? h('textarea', { id: `${prefix}-json`, rows: 4, spellcheck: 'false' }, '{}') : null;
  const node = h(
    'fieldset',
    { class: 'args' },
    h('legend', {}, 'Arguments'),
    controls.length === 0 && !raw ? h('p', {}, 'This action takes no arguments.') : null,
    controls.map((c) => field(`${c.name}${c.required ? ' (required)' : ''}`, c.el, c.sub.description ?? hint(c.sub))),
    raw ? field('Arguments (JSON)', raw) : null,
  );
  return {
    node,
    /** `{ok: true, args}` or `{ok: false, errors: {name: message}}` */
    value() {
      if (raw) {
        try {
          return { ok: true, args: JSON.parse(raw.value) };
        } catch (e) {
          return { ok: false, errors: { json: e.message } };
        }
      }
      const args = {};
      const errors = {};
      for (const c of controls) {
        const r = c.read();
        if (r.error) errors[c.name] = r.error;
        else if (r.value === undefined) {
          if (c.required) errors[c.name] = 'required';
        } else args[c.name] = r.value;
      }
      return Object.keys(errors).length ? { ok: false, errors } : { ok: true, args };
    },
    /** Shows errors next to their controls (server `errors[].field` like `action.args.groups.1` too). */
    showErrors(errors) {
      for (const c of controls) {
        const msg = errors[c.name];
        c.el.setAttribute('aria-invalid', msg ? 'true' : 'false');
        const small = c.el.parentElement.querySelector('.error') ?? c.el.parentElement.appendChild(h('small', { class: 'error' }));
        small.textContent = msg ?? '';
      }
    },
  };
}

function hint(sub) {
  const bits = [];
  if (sub.type === 'array') bits.push('one item per line');
  if (sub.pattern) bits.push(`pattern ${sub.pattern}`);
  if (sub.maxLength) bits.push(`at most ${sub.maxLength} characters`);
  if (sub.minimum !== undefined) bits.push(`≥ ${sub.minimum}`);
  if (sub.maximum !== undefined) bits.push(`≤ ${sub.maximum}`);
  return bits.join(', ') || undefined;
}

function control(id, sub, required) {
  const type = Array.isArray(sub.type) ? sub.type.find((t) => t !== 'null') : sub.type;
  if (Array.isArray(sub.enum)) {
    const el = h('select', { id }, required ? null : h('option', { value: '' }, '(none)'), sub.enum.map((v) => h('option', { value: JSON.stringify(v), selected: sub.default === v }, String(v))));
    return { el, read: () => (el.value === '' ? {} : { value: JSON.parse(el.value) }) };
  }
  if (type === 'boolean') {
    const el = h('input', { id, type: 'checkbox', checked: sub.default === true });
    return { el, read: () => ({ value: el.checked }) };
  }
  if (type === 'integer' || type === 'number') {
    const el = h('input', { id, type: 'number', step: type === 'integer' ? '1' : 'any', min: sub.minimum, max: sub.maximum, value: sub.default });
    return {
      el,
      read: () => {
        if (el.value === '') return {};
        const n = Number(el.value);
        if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) return { error: `must be ${type === 'integer' ? 'an integer' : 'a number'}` };
        return { value: n };
      },
    };
  }
  if (type === 'string') {
    const el = h('input', { id, type: 'text', minlength: sub.minLength, maxlength: sub.maxLength, value: sub.default, required });
    return {
      el,
      read: () => {
        if (el.value === '') return {};
        if (sub.pattern && !new RegExp(sub.pattern, 'u').test(el.value)) return { error: `must match ${sub.pattern}` };
        return { value: el.value };
      },
    };
  }
  if (type === 'array' && ['string', 'integer', 'number'].includes(sub.items?.type)) {
    const el = h('textarea', { id, rows: 3, spellcheck: 'false' });
    return {
      el,
      read: () => {
        const lines = el.value.split('\n').map((l) => l.trim()).filter(Boolean);
        if (sub.items.type === 'string') {
          const bad = sub.items.pattern ? lines.find((l) => !new RegExp(sub.items.pattern, 'u').test(l)) : undefined;
          return bad ? { error: `"${bad}" must match ${sub.items.pattern}` } : { value: lines };
        }
        const nums = lines.map(Number);
        return nums.some((n) => !Number.isFinite(n)) ? { error: 'one number per line' } : { value: nums };
      },
    };
  }
  const el = h('textarea', { id, rows: 3, spellcheck: 'false' });
  return {
    el,
    read: () => {
      if (el.value.trim() === '') return {};
      try {
        return { value: JSON.parse(el.value) };
      } catch (e) {
        return { error: `not JSON: ${e.message}` };
      }
    },
  };
}
