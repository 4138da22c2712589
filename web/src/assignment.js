// Sachbearbeitung and Vertretung of a case; clerks change them (names from the directory).
import { api, problemText } from './api.js'
import { hasRole } from './auth.js'
import { h, clear, notice } from './dom.js'

export function renderAssignment (box, caseId) {
  const status = h('div#assignment-status')
  const load = async () => {
    try {
      const [c, clerks] = await Promise.all([
        api(`/api/v1/cases/${caseId}`),
        hasRole('clerk', 'admin') ? api('/api/v1/directory?role=clerk') : Promise.resolve({ items: [] })
      ])
      const shown = (o) => (o ? o.name : 'nicht zugewiesen')
      if (!hasRole('clerk', 'admin')) {
        return clear(box, h('h2', 'Zuständigkeit'),
          h('p', 'Sachbearbeitung: ', h('strong#assignee', shown(c.assignee))),
          h('p', 'Vertretung: ', h('strong#deputy', shown(c.deputy))))
      }
      const select = (name, current) => h('select', { name, id: `assign-${name}` },
        h('option', { value: '' }, '– niemand –'),
        clerks.items.map((m) => h('option', { value: m.sub, selected: current && current.sub === m.sub }, m.name)))
      const assignee = select('assignee', c.assignee)
      const deputy = select('deputy', c.deputy)
      let tag = c.assignment_tag // a colleague's change meanwhile is refused (412), not overwritten
      clear(box, h('h2', 'Zuständigkeit'),
        h('form#assignment.grid', {
          onsubmit: async (e) => {
            e.preventDefault()
            try {
              const saved = await api(`/api/v1/cases/${caseId}/assignment`, {
                method: 'PUT',
                headers: tag ? { 'If-Match': tag } : {},
                body: { assignee: assignee.value || null, deputy: deputy.value || null }
              })
              tag = saved.assignment_tag
              notice(status, 'ok', 'Zuständigkeit gespeichert.')
            } catch (err) {
              if (err.status === 412) {
                await load()
                notice(status, 'warn', 'Die Zuständigkeit wurde inzwischen von jemand anderem geändert – der aktuelle Stand ist geladen.')
              } else notice(status, 'error', problemText(err))
            }
          }
        },
        h('label', 'Sachbearbeitung', assignee),
        h('label', 'Vertretung', deputy),
        h('div.wide', h('button', { type: 'submit' }, 'Zuständigkeit speichern'))),
        status)
    } catch (err) {
      notice(box, 'error', problemText(err))
    }
  }
  load()
}
