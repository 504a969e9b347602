// The peer mesh over an in-memory network: chunked delivery, bad frames refused, relay fallbacks.
import { describe, expect, it } from 'vitest'
import { PeerMesh } from '../../client/transport/peer-mesh.ts'
import type { TabgridError } from '../../protocol/errors.ts'
import type { LinkState } from '../../protocol/messages.ts'
import { FakeNet } from '../sim/fake-peer.ts'

function pair(net: FakeNet, opts: { p2pB?: boolean; linkTimeoutMs?: number } = {}) {
  const got: Record<string, Array<{ from: string; frame: Uint8Array }>> = { a: [], b: [] }
  const bad: Record<string, TabgridError[]> = { a: [], b: [] }
  const links: Record<string, Array<[string, LinkState]>> = { a: [], b: [] }
  const meshes: Record<string, PeerMesh> = {}
  for (const me of ['a', 'b']) {
    meshes[me] = new PeerMesh({
      Peer: net.Peer,
      linkTimeoutMs: opts.linkTimeoutMs ?? 2000,
      p2p: me === 'b' ? opts.p2pB !== false : true,
      signal: (to, data) => setTimeout(() => meshes[to].signal(me, data), 1),
      onLink: (peer, state) => links[me].push([peer, state]),
      onFrame: (from, frame) => got[me].push({ from, frame }),
      onBadFrame: (_from, err) => bad[me].push(err),
    })
  }
  return { meshes, got, bad, links }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('PeerMesh', () => {
  it('delivers frames in ≤16 KiB chunks, whole and in order', async () => {
    const net = new FakeNet({ seed: 2, latencyMs: [0, 3] })
    const { meshes, got, links } = pair(net)
    expect(await meshes.b.connect('a')).toBe('p2p')
    expect(links.a).toEqual([['b', 'p2p']])
    const frame = (c: number) => new Uint8Array(new Float32Array(20_000).map((_, i) => i + c).buffer)
    for (let c = 0; c < 3; c++) expect(meshes.b.broadcast(frame(c))).toEqual(['a'])
    await meshes.b.flush()
    await wait(50)
    expect(got.a.map((m) => new Float32Array(m.frame.slice().buffer)[0])).toEqual([0, 1, 2])
    expect(got.a[2].from).toBe('b')
    expect(new Float32Array(got.a[2].frame.slice().buffer)[19_999]).toBe(19_999 + 2)
    expect(net.delivered).toBe(15) // 80 KiB message → 5 chunks each
  })

  it('drops a malformed frame with ERR_PEER_FRAME and keeps the link', async () => {
    const net = new FakeNet({ seed: 3, latencyMs: [0, 1] })
    const { meshes, got, bad } = pair(net)
    await meshes.b.connect('a')
    // reach under the mesh: a raw chunk with an impossible header
    const raw = (meshes.b as unknown as { links: Map<string, { peer: { send(c: Uint8Array): void } }> }).links.get('a')!.peer
    raw.send(new Uint8Array([1, 2, 3]))
    raw.send(new Uint8Array(64).fill(255))
    meshes.b.broadcast(new Uint8Array(24))
    await meshes.b.flush()
    await wait(30)
    expect(bad.a.map((e) => e.code)).toEqual(['ERR_PEER_FRAME', 'ERR_PEER_FRAME'])
    expect(got.a).toHaveLength(1)
  })

  it('gives up on a link that does not open in time, and on a newcomer without WebRTC', async () => {
    const net = new FakeNet({ seed: 4, latencyMs: [0, 1], blockLink: () => true })
    const { meshes, links } = pair(net, { linkTimeoutMs: 100 })
    expect(await meshes.b.connect('a')).toBe('relay')
    expect(links.b).toEqual([['a', 'relay']])
    expect(meshes.b.broadcast(new Uint8Array(24))).toEqual([])
    const off = pair(new FakeNet({ seed: 5, latencyMs: [0, 1] }), { p2pB: false, linkTimeoutMs: 100 })
    off.meshes.a.expect('b')
    expect(await off.meshes.b.connect('a')).toBe('relay')
    await wait(150)
    expect(off.links.a).toEqual([['b', 'relay']])
  })

  it('settles a link still connecting when its peer leaves, so the joiner does not wait for it', async () => {
    const net = new FakeNet({ seed: 6, latencyMs: [0, 1], blockLink: () => true })
    const { meshes, links } = pair(net, { linkTimeoutMs: 60_000 })
    const opening = meshes.b.connect('a')
    await wait(20)
    expect(meshes.b.state('a')).toBe('connecting')
    meshes.b.drop('a')
    const settled = await Promise.race([opening, wait(500).then(() => 'still waiting')])
    expect(settled).toBe('relay')
    expect(links.b).toEqual([]) // a departed peer is no link at all: nothing to report
  })
})
