#!/usr/bin/env node
// The tabgrid command: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api'

register()
await import('../coordinator/cli.ts')
