// Builds the two pages (volunteer at /, console at /console) into dist/client.
import { resolve } from 'node:path'
import { defineConfig } from 'vite'

export default defineConfig({
  root: 'client',
  base: '/',
  build: {
    outDir: resolve(import.meta.dirname, 'dist/client'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        volunteer: resolve(import.meta.dirname, 'client/index.html'),
        console: resolve(import.meta.dirname, 'client/console.html'),
      },
    },
  },
  server: { fs: { allow: ['..'] } },
})
