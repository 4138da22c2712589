// Tiny DOM helpers: h('div.cls', {attrs}, ...children).
export function h (tag, attrs, ...children) {
  const id = (tag.match(/#([\w-]+)/) || [])[1]
  const [name, ...classes] = tag.replace(/#[\w-]+/, '').split('.')
  const el = document.createElement(name || 'div')
  if (id) el.id = id
  if (classes.length) el.className = classes.join(' ')
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs)
    attrs = null
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value)
    else if (key === 'dataset') Object.assign(el.dataset, value)
    else if (key in el && typeof value !== 'string') el[key] = value
    else el.setAttribute(key, value === true ? '' : value)
  }
  append(el, children)
  return el
}

function append (el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(el, child)
    else el.append(child instanceof Node ? child : String(child))
  }
}

export function clear (el, ...children) {
  el.replaceChildren()
  append(el, children)
  return el
}

// one date format throughout (TT.MM.JJJJ), see i18n.js
export { formatDate as fmtDate, formatDateTime as fmtDateTime } from './i18n.js'

export function fmtBytes (n) {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

export function daysUntil (isoDate) {
  const due = new Date(isoDate + 'T00:00:00')
  const today = new Date()
  today.setHours(0, 0, 0, 0)
  return Math.round((due - today) / 86400000)
}

export function notice (el, kind, text) {
  clear(el, text ? h(`div.notice.${kind}`, { role: kind === 'error' ? 'alert' : 'status' }, text) : null)
}

// Narrow screens show table rows as cards: each cell is labelled with its column (CSS ::before)
export function labelCells (table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent)
  for (const row of table.querySelectorAll('tbody tr')) {
    [...row.children].forEach((td, i) => { if (heads[i]) td.dataset.label = heads[i] })
  }
  return table
}
