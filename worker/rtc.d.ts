// The one WebRTC name the shared client code uses (PeerMesh's options). The worker opens no WebRTC link, so it needs
// the name only; leaving the DOM lib out of this compile keeps browser APIs out of the worker's own code.
interface RTCConfiguration {
  iceServers?: unknown[]
}
