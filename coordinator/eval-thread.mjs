// Entry of an evaluation thread: worker threads start without the main thread's TypeScript loader, so register it.
import { register } from 'tsx/esm/api'

register()
const task = await import('./eval-task.ts')
export default task.default
