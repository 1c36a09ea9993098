package browser_test

// peopleFormsDiffer says how the console's two forms on its people page,
// "Search by name, device or number" and "Invite or find someone by
// name", differ in their fields' height and their buttons' size; "" when
// they match (walk36: the second's field was taller and its button as
// wide as the page, the first's fitted to its word).
const peopleFormsDiffer = `(() => {
  const q = document.querySelector('#q'), n = document.querySelector('#name');
  if (!q || !n) return 'a form is missing';
  const qb = q.form.querySelector('button'), nb = n.form.querySelector('button');
  const box = e => e.getBoundingClientRect(), out = [];
  if (Math.abs(box(q).height - box(n).height) > 1) out.push('the fields are ' + Math.round(box(q).height) + ' and ' + Math.round(box(n).height) + ' px high');
  if (Math.abs(box(qb).height - box(nb).height) > 1 || (box(qb).width >= box(q).width - 1) !== (box(nb).width >= box(n).width - 1))
    out.push('the buttons are ' + Math.round(box(qb).width) + 'x' + Math.round(box(qb).height) + ' and ' + Math.round(box(nb).width) + 'x' + Math.round(box(nb).height) + ' px, the fields ' + Math.round(box(q).width) + ' and ' + Math.round(box(n).width) + ' wide');
  return out.join('; ');
})()`
