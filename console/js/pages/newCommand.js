// Issue a command: action from the catalogue, a form from its args schema, a target, then a review
// step showing how many agents it will reach before it is sent.
import { allAgents, call, get } from '../api.js';
import { field, fill, h, notice, problemText } from '../dom.js';
import { schemaForm } from '../schemaForm.js';

export const title = 'Issue a command';

export async function render(main, ctx) {
  if (!ctx.operator) return fill(main, h('h1', {}, 'Issue a command'), notice('error', 'Only operators issue commands.'));
  fill(main, h('h1', {}, 'Issue a command'), h('p', {}, 'Loading the catalogue…'));
  const [cat, agents] = await Promise.all([get('/catalog'), allAgents({}, 2)]);
  if (!ctx.alive()) return;
  if (!cat.ok) return fill(main, h('h1', {}, 'Issue a command'), notice('error', problemText(cat)));
  const actions = cat.body.items;
  const preset = ctx.params.query.get('agent');

  const action = h('select', { id: 'cmd-action' }, actions.map((a) => h('option', { value: a.name }, a.name)));
  const description = h('p', { class: 'hint', id: 'cmd-description' });
  const argsBox = h('div');
  const targetType = h('select', { id: 'cmd-target-type' });
  const groups = [...new Set(agents.agents.flatMap((a) => a.groups))].sort();
  const targetId = h('input', { id: 'cmd-target-id', list: 'cmd-target-options', autocomplete: 'off', value: preset ?? '' });
  const options = h('datalist', { id: 'cmd-target-options' });
  const timeout = h('input', { id: 'cmd-timeout', type: 'number', min: 1, max: 2592000, step: 1 });
  const status = h('div', { 'aria-live': 'polite' });
  const review = h('div', { id: 'cmd-review' });
  let form = schemaForm({});

  function onAction() {
    const a = actions.find((x) => x.name === action.value);
    fill(description, a?.description ?? '');
    form = schemaForm(a?.args ?? {});
    fill(argsBox, form.node);
    const previous = targetType.value || (preset ? 'agent' : '');
    fill(targetType, (a?.target_types ?? ['agent']).map((t) => h('option', { value: t, selected: t === previous }, t)));
    timeout.placeholder = `${a?.default_timeout ?? 600} (default)`;
    onTargetType();
    fill(review);
  }
  function onTargetType() {
    targetId.disabled = targetType.value === 'all';
    const items = targetType.value === 'group' ? groups : agents.agents.map((a) => a.uuid);
    fill(options, items.map((v) => h('option', { value: v })));
    fill(review);
  }
  action.addEventListener('change', onAction);
  targetType.addEventListener('change', onTargetType);
  targetId.addEventListener('input', () => fill(review));

  const reviewButton = h('button', { type: 'submit', id: 'cmd-review-button', 'data-write': 'true' }, 'Review');
  const formEl = h(
    'form',
    { id: 'command-form', onsubmit: (e) => { e.preventDefault(); onReview(); } },
    field('Action', action),
    description,
    argsBox,
    h('fieldset', {}, h('legend', {}, 'Target'), field('Type', targetType), field('Agent uuid or group', targetId), options),
    field('Timeout (seconds)', timeout),
    reviewButton,
    status,
  );
  fill(main, h('p', {}, h('a', { href: '#/commands' }, '← Commands')), h('h1', {}, 'Issue a command'), formEl, review);
  onAction();

  async function onReview() {
    fill(status);
    const v = form.value();
    form.showErrors(v.ok ? {} : v.errors);
    if (!v.ok) return fill(status, notice('error', 'Fix the highlighted arguments.'));
    const target = targetType.value === 'all' ? { type: 'all' } : { type: targetType.value, id: targetId.value.trim() };
    if (target.type !== 'all' && !target.id) return fill(status, notice('error', `Name the ${target.type}.`));
    const count = await targetCount(target);
    if (!ctx.alive()) return;
    if (count.error) return fill(status, notice('error', count.error));
    const body = { action: { name: action.value, args: v.args }, target, ...(timeout.value ? { timeout: Number(timeout.value) } : {}) };
    const confirm = h('button', { type: 'button', id: 'cmd-confirm', 'data-write': 'true', onclick: () => send(body, confirm) }, `Send to ${count.n} agent${count.n === 1 ? '' : 's'}`);
    const back = h('button', { type: 'button', id: 'cmd-back', onclick: () => { fill(review); reviewButton.focus(); } }, 'Change');
    fill(
      review,
      h('section', { class: 'review', 'aria-labelledby': 'h-review' },
        h('h2', { id: 'h-review' }, 'Review'),
        h('p', { id: 'cmd-target-count', 'data-count': count.n }, `${action.value} will be sent to ${count.n} agent${count.n === 1 ? '' : 's'}${count.approx ? ' (at least)' : ''}.`),
        h('pre', {}, JSON.stringify(body, null, 2)),
        confirm, ' ', back),
    );
    confirm.focus();
  }

  async function send(body, button) {
    button.disabled = true;
    const r = await call('POST', '/commands', { json: body });
    if (!ctx.alive()) return;
    if (r.status === 201) return ctx.go(`#/commands/${encodeURIComponent(r.body.id)}`);
    button.disabled = false;
    const errors = {};
    for (const e of r.body?.errors ?? []) {
      const m = /^action\.args\.([^.]+)/.exec(e.field ?? '');
      if (m) errors[m[1]] = e.message;
    }
    form.showErrors(errors);
    fill(review, notice('error', `Not sent: ${problemText(r)}`));
  }
}

/** How many agents a target reaches, as far as this node knows. */
async function targetCount(target) {
  if (target.type === 'agent') {
    const r = await get(`/agents/${encodeURIComponent(target.id)}`);
    return r.ok ? { n: 1 } : { error: r.status === 404 ? `No agent ${target.id}.` : problemText(r) };
  }
  const res = await allAgents(target.type === 'group' ? { group: target.id } : {}, 10);
  if (res.error) return { error: problemText(res.error) };
  const n = target.type === 'group' ? res.agents.filter((a) => a.groups.includes(target.id)).length : res.agents.length;
  if (n === 0) return { error: target.type === 'group' ? `Group ${target.id} has no member.` : 'No agent is registered.' };
  return { n, approx: res.truncated };
}
