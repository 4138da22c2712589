// A collaborative CodeMirror 6 editor bound to a Y.Text, with remote cursors.
import { EditorState } from '@codemirror/state'
import { EditorView, keymap, placeholder, drawSelection } from '@codemirror/view'
import { defaultKeymap } from '@codemirror/commands'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import * as Y from 'yjs'

export function collabEditor (parent, ytext, awareness, { readOnly = false, hint = '', label = '' } = {}) {
  const undoManager = new Y.UndoManager(ytext)
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: ytext.toString(),
      extensions: [
        keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
        drawSelection(),
        EditorView.lineWrapping,
        placeholder(hint),
        EditorView.contentAttributes.of({ 'aria-label': label || hint }),
        EditorState.readOnly.of(readOnly),
        EditorView.editable.of(!readOnly),
        yCollab(ytext, awareness, { undoManager })
      ]
    })
  })
  return view
}
