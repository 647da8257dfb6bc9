// The byte pattern both sides of an interop test send (same generator as
// datachannel_peer.cc): a 32-bit LCG, one byte per step from its top bits.
'use strict';

function makePattern(seed) {
  let state = seed >>> 0;
  return {
    fill(buffer) {
      for (let i = 0; i < buffer.length; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        buffer[i] = state >>> 24;
      }
      return buffer;
    },
  };
}

function smallMessage(index, seed) {
  return `message ${index} from ${seed}`;
}

// Checks what arrives from a peer sending `bulk` bytes of pattern(seed), then
// `messages` small text messages. onDone(error or null) is called once.
function makeChecker(seed, bulk, messages, onDone) {
  const expected = makePattern(seed);
  let bulkReceived = 0;
  let messagesReceived = 0;
  let finished = false;
  const finish = (error) => {
    if (!finished) {
      finished = true;
      onDone(error);
    }
  };
  return {
    // `data`: a Buffer or Uint8Array (Node) or an ArrayBuffer (browser).
    binary(data) {
      if (finished) return;
      const got = data instanceof Uint8Array ? data : new Uint8Array(data);
      const want = expected.fill(new Uint8Array(got.length));
      let same = bulkReceived + got.length <= bulk;
      for (let i = 0; same && i < got.length; i++) same = got[i] === want[i];
      if (!same) {
        finish(new Error(`bulk data differs near byte ${bulkReceived}`));
        return;
      }
      bulkReceived += got.length;
      this.check();
    },
    text(message) {
      if (finished) return;
      if (message !== smallMessage(messagesReceived, seed)) {
        finish(new Error(`message ${messagesReceived} differs: ${message}`));
        return;
      }
      messagesReceived++;
      this.check();
    },
    check() {
      if (bulkReceived === bulk && messagesReceived === messages) finish(null);
    },
    progress() {
      return { bulkReceived, messagesReceived };
    },
  };
}

module.exports = { makePattern, smallMessage, makeChecker };
