// The consumer page's own check of what it shows, run in the reader's browser: fetches the
// proof bundles of the entries the page relied on (same origin) and verifies, with WebCrypto,
// each checkpoint's Ed25519 signature and its witness cosignatures, each entry's signature and
// payload commitment, and its RFC 6962 inclusion proof; then checks that every step and record
// the page shows is carried by a verified entry of the organisation it names, and every name
// it shows from master data is a value of the verified statement it cites. Only then does
// it mark the page verified (data-verified="true", data-verified-entries="<count>").
// Byte layouts: docs/wire-format.md; checkpoints: C2SP signed note, tlog-checkpoint and
// tlog-cosignature/v1. It writes text only (textContent), never markup.
(function () {
  "use strict";
  var status = document.getElementById("verification");
  if (!status) { return; }
  var encoder = new TextEncoder();
  var HEADER_LEN = 114;
  var ENVELOPE_LEN = 178;
  var FEED_ORIGIN = "lotline.dev/feed/";
  var WITNESS_NAME = "lotline.dev/witness/";

  function fail(reason) { var error = new Error(reason); error.proof = true; return error; }
  function concat(parts) {
    var length = 0, offset = 0, index;
    for (index = 0; index < parts.length; index++) { length += parts[index].length; }
    var out = new Uint8Array(length);
    for (index = 0; index < parts.length; index++) { out.set(parts[index], offset); offset += parts[index].length; }
    return out;
  }
  function bytesOfText(text) { return encoder.encode(text); }
  function base64Bytes(text) {
    if (typeof text !== "string") { throw fail("not base64"); }
    var binary = atob(text), out = new Uint8Array(binary.length), index;
    for (index = 0; index < binary.length; index++) { out[index] = binary.charCodeAt(index); }
    return out;
  }
  function hexBytes(hex) {
    if (!/^[0-9a-f]{64}$/.test(hex)) { throw fail("not a key"); }
    var out = new Uint8Array(32), index;
    for (index = 0; index < 32; index++) { out[index] = parseInt(hex.substr(index * 2, 2), 16); }
    return out;
  }
  function hexOf(bytes) {
    var text = "", index;
    for (index = 0; index < bytes.length; index++) { text += (bytes[index] < 16 ? "0" : "") + bytes[index].toString(16); }
    return text;
  }
  function equalBytes(left, right) {
    if (left.length !== right.length) { return false; }
    for (var index = 0; index < left.length; index++) { if (left[index] !== right[index]) { return false; } }
    return true;
  }
  function u64le(value) {
    var out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
    return out;
  }
  function u32le(value) {
    var out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value, true);
    return out;
  }
  async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }
  async function ed25519Verify(publicKey, signature, message) {
    var key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }
  // The signed-note key ID: SHA-256(name || "\n" || type || public key)[:4].
  async function keyId(name, type, publicKey) {
    var digest = await sha256(concat([bytesOfText(name + "\n"), new Uint8Array([type]), publicKey]));
    return digest.subarray(0, 4);
  }

  // A C2SP signed note: the text up to the last blank line, then "— name base64" lines.
  function parseNote(note) {
    var separator = note.lastIndexOf("\n\n");
    if (separator < 0 || note.charAt(note.length - 1) !== "\n") { throw fail("malformed checkpoint"); }
    var text = note.substring(0, separator + 1);
    var lines = note.substring(separator + 2, note.length - 1).split("\n");
    var signatures = lines.map(function (line) {
      if (line.indexOf("\u2014 ") !== 0) { throw fail("malformed signature line"); }
      var rest = line.substring(2), space = rest.indexOf(" ");
      if (space <= 0) { throw fail("malformed signature line"); }
      var raw = base64Bytes(rest.substring(space + 1));
      if (raw.length <= 4) { throw fail("malformed signature line"); }
      return { name: rest.substring(0, space), keyId: raw.subarray(0, 4), bytes: raw.subarray(4) };
    });
    return { text: text, signatures: signatures };
  }

  // The checkpoint: signed by the feed's author (named in its origin), and every cosignature
  // by a witness of the roster checks out. Returns the author, the tree size and root, and
  // the witnesses that cosigned.
  async function verifyCheckpoint(noteText, witnesses) {
    var note = parseNote(noteText);
    var body = note.text.split("\n");
    var origin = body[0];
    if (origin.indexOf(FEED_ORIGIN) !== 0) { throw fail("checkpoint of no feed"); }
    var authorHex = origin.substring(FEED_ORIGIN.length);
    var author = hexBytes(authorHex);
    if (!/^(0|[1-9][0-9]*)$/.test(body[1] || "")) { throw fail("checkpoint size"); }
    var size = BigInt(body[1]);
    var root = base64Bytes(body[2] || "");
    if (root.length !== 32) { throw fail("checkpoint root"); }
    var logKeyId = await keyId(origin, 0x01, author);
    var signed = false, cosigned = [], index;
    var textBytes = bytesOfText(note.text);
    for (index = 0; index < note.signatures.length; index++) {
      var line = note.signatures[index];
      if (line.name === origin && equalBytes(line.keyId, logKeyId)) {
        if (signed || line.bytes.length !== 64 || !(await ed25519Verify(author, line.bytes, textBytes))) {
          throw fail("checkpoint signature");
        }
        signed = true;
        continue;
      }
      if (line.name.indexOf(WITNESS_NAME) !== 0) { continue; }
      var witnessHex = line.name.substring(WITNESS_NAME.length);
      if (witnesses.indexOf(witnessHex) < 0) { continue; }
      var witnessKey = hexBytes(witnessHex);
      if (!equalBytes(line.keyId, await keyId(line.name, 0x04, witnessKey))) { continue; }
      if (line.bytes.length !== 72 || cosigned.indexOf(witnessHex) >= 0) { throw fail("cosignature"); }
      var timestamp = new DataView(line.bytes.buffer, line.bytes.byteOffset, 8).getBigUint64(0, false);
      var message = bytesOfText("cosignature/v1\ntime " + timestamp.toString() + "\n" + note.text);
      if (!(await ed25519Verify(witnessKey, line.bytes.subarray(8), message))) { throw fail("cosignature"); }
      cosigned.push(witnessHex);
    }
    if (!signed) { throw fail("checkpoint not signed by its feed's author"); }
    return { authorHex: authorHex, author: author, size: size, root: root, cosigned: cosigned };
  }

  // RFC 6962 / RFC 9162 inclusion proof verification.
  async function verifyInclusion(leafHash, leafIndex, treeSize, proof, root) {
    if (leafIndex >= treeSize) { throw fail("leaf beyond the tree"); }
    var fn = leafIndex, sn = treeSize - 1n, hash = leafHash, index;
    for (index = 0; index < proof.length; index++) {
      var sibling = base64Bytes(proof[index]);
      if (sibling.length !== 32 || sn === 0n) { throw fail("inclusion proof"); }
      if ((fn & 1n) === 1n || fn === sn) {
        hash = await sha256(concat([new Uint8Array([1]), sibling, hash]));
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        hash = await sha256(concat([new Uint8Array([1]), hash, sibling]));
      }
      fn >>= 1n; sn >>= 1n;
    }
    if (sn !== 0n || !equalBytes(hash, root)) { throw fail("inclusion proof"); }
  }

  // One entry: header, signature over the header, the body's openings recomputed into the
  // header's payload commitment. Returns its author, sequence, entry hash and, for an EPCIS
  // capture whose event id is disclosed, that id.
  async function verifyEntry(wire) {
    if (wire.length < ENVELOPE_LEN + 8 || wire[0] !== 1) { throw fail("entry layout"); }
    var view = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
    var header = wire.subarray(0, HEADER_LEN);
    var author = wire.subarray(1, 33);
    var sequence = view.getBigUint64(33, true);
    var kind = wire[81];
    var commitment = wire.subarray(82, HEADER_LEN);
    var signature = wire.subarray(HEADER_LEN, ENVELOPE_LEN);
    var signedMessage = concat([bytesOfText("lotline/entry-signature\0"), header]);
    if (!(await ed25519Verify(author, signature, signedMessage))) { throw fail("entry signature"); }
    var offset = ENVELOPE_LEN;
    var count = view.getBigUint64(offset, true); offset += 8;
    if (count > 64n) { throw fail("entry fields"); }
    var commitments = [], fields = [], index;
    for (index = 0; index < Number(count); index++) {
      var tag = wire[offset]; offset += 1;
      if (tag === 1) {
        if (offset + 32 > wire.length) { throw fail("entry layout"); }
        commitments.push(wire.subarray(offset, offset + 32)); fields.push(null); offset += 32;
      } else if (tag === 0) {
        if (offset + 24 > wire.length) { throw fail("entry layout"); }
        var salt = wire.subarray(offset, offset + 16);
        var length = view.getBigUint64(offset + 16, true);
        if (length > BigInt(wire.length - offset - 24)) { throw fail("entry layout"); }
        var value = wire.subarray(offset + 24, offset + 24 + Number(length));
        offset += 24 + Number(length);
        commitments.push(await sha256(concat([bytesOfText("lotline/field-commitment\0"), new Uint8Array([kind]),
          u32le(index), salt, u64le(value.length), value])));
        fields.push(value);
      } else {
        throw fail("entry layout");
      }
    }
    if (offset !== wire.length) { throw fail("entry layout"); }
    var payload = await sha256(concat([bytesOfText("lotline/payload-commitment\0"), new Uint8Array([kind]),
      u64le(commitments.length)].concat(commitments)));
    if (!equalBytes(payload, commitment)) { throw fail("payload commitment"); }
    var eventId = null, values = null;
    if (kind === 8 && fields[2]) { values = statementValues(fields[2]); }
    if (kind === 0 && fields[0]) {
      var field = fields[0];
      var textLength = new DataView(field.buffer, field.byteOffset, field.byteLength).getBigUint64(0, true);
      if (textLength !== BigInt(field.length - 8)) { throw fail("event id"); }
      eventId = new TextDecoder("utf-8", { fatal: true }).decode(field.subarray(8));
    }
    var entryHash = await sha256(concat([bytesOfText("lotline/entry-hash\0"), wire.subarray(0, ENVELOPE_LEN)]));
    var leafHash = await sha256(concat([new Uint8Array([0]), wire.subarray(0, ENVELOPE_LEN)]));
    return { authorHex: hexOf(author), sequence: sequence, entryHash: hexOf(entryHash), leafHash: leafHash,
      eventId: eventId, values: values };
  }

  // The attribute values of a master-data statement: its field 2, `Vec<(String id, String
  // value)>` in bincode (u64 counts and lengths, little-endian).
  function statementValues(field) {
    var view = new DataView(field.buffer, field.byteOffset, field.byteLength), offset = 0, values = [];
    var decoder = new TextDecoder("utf-8", { fatal: true });
    function text() {
      if (offset + 8 > field.length) { throw fail("statement layout"); }
      var length = view.getBigUint64(offset, true); offset += 8;
      if (length > BigInt(field.length - offset)) { throw fail("statement layout"); }
      var value = decoder.decode(field.subarray(offset, offset + Number(length)));
      offset += Number(length);
      return value;
    }
    if (field.length < 8) { throw fail("statement layout"); }
    var count = view.getBigUint64(0, true); offset = 8;
    if (count > BigInt(field.length)) { throw fail("statement layout"); }
    for (var index = 0; index < Number(count); index++) { text(); values.push(text()); }
    if (offset !== field.length) { throw fail("statement layout"); }
    return values;
  }

  async function verifyProof(proof) {
    var evidence = proof && proof.evidence;
    if (!evidence || !Array.isArray(evidence.bundles)) { throw fail("no evidence"); }
    var witnesses = Array.isArray(proof.witnesses) ? proof.witnesses : [];
    var entries = {}, events = {}, names = {}, count = 0, cosignatures = 0, bundleIndex, entryIndex;
    for (bundleIndex = 0; bundleIndex < evidence.bundles.length; bundleIndex++) {
      var bundle = evidence.bundles[bundleIndex];
      var checkpoint = await verifyCheckpoint(String(bundle.checkpoint), witnesses);
      cosignatures += checkpoint.cosigned.length;
      if (!Array.isArray(bundle.entries) || bundle.entries.length === 0) { throw fail("empty bundle"); }
      for (entryIndex = 0; entryIndex < bundle.entries.length; entryIndex++) {
        var bundled = bundle.entries[entryIndex];
        var entry = await verifyEntry(base64Bytes(bundled.entry));
        if (entry.authorHex !== checkpoint.authorHex) { throw fail("entry of another feed"); }
        if (typeof bundled.index !== "number" || BigInt(bundled.index) !== entry.sequence) { throw fail("leaf index"); }
        await verifyInclusion(entry.leafHash, entry.sequence, checkpoint.size, bundled.inclusion_proof || [], checkpoint.root);
        entries[entry.entryHash] = entry.authorHex;
        if (entry.eventId) { events[entry.eventId] = entry.authorHex; }
        if (entry.values) { names[entry.entryHash] = entry.values; }
        count += 1;
      }
    }
    var unproven = Array.isArray(evidence.unproven) ? evidence.unproven.length : 0;
    return { entries: entries, events: events, names: names, count: count, cosignatures: cosignatures, unproven: unproven };
  }

  // Every step and record the page shows must be carried by a verified entry of the
  // organisation the page names beside it.
  function checkShown(verified) {
    var shown = document.querySelectorAll("[data-event], [data-entry]"), index, missing = 0;
    for (index = 0; index < shown.length; index++) {
      var element = shown[index];
      var claimed = element.getAttribute("data-author");
      var signer = element.hasAttribute("data-event")
        ? verified.events[element.getAttribute("data-event")]
        : verified.entries[element.getAttribute("data-entry")];
      var mark = element.querySelector(".signer");
      if (!signer || (claimed && claimed !== signer)) {
        missing += 1;
        element.setAttribute("data-step-verified", "false");
        if (mark) { mark.textContent = status.getAttribute("data-text-step-failed"); }
        continue;
      }
      element.setAttribute("data-step-verified", "true");
      if (mark) {
        mark.textContent = status.getAttribute("data-text-signed-by") + " " +
          (element.getAttribute("data-author-name") || signer.substring(0, 16));
      }
    }
    // Every name shown from master data must be a value of the signed statement it cites: the
    // element citing it, or each of its [data-name] parts (a place's name, city and country
    // cite their statement once).
    var named = document.querySelectorAll("[data-name-entry]"), names = 0, part;
    for (index = 0; index < named.length; index++) {
      var values = verified.names[named[index].getAttribute("data-name-entry")];
      var parts = named[index].querySelectorAll("[data-name]");
      if (parts.length === 0) { parts = [named[index]]; }
      for (part = 0; part < parts.length; part++) {
        var stated = !!values && values.indexOf(parts[part].textContent) >= 0;
        parts[part].setAttribute("data-name-verified", stated ? "true" : "false");
        names += 1;
        if (!stated) { missing += 1; }
      }
    }
    return { shown: shown.length + names, missing: missing };
  }

  function show(state, text, count) {
    status.setAttribute("data-verified", state);
    if (count !== undefined) { status.setAttribute("data-verified-entries", String(count)); }
    var message = status.querySelector(".message");
    if (message) { message.textContent = text; }
    status.className = "verification " + state;
  }

  async function run() {
    if (!window.crypto || !crypto.subtle) {
      show("unavailable", status.getAttribute("data-text-unavailable"));
      return;
    }
    show("checking", status.getAttribute("data-text-checking"));
    try {
      var response = await fetch(status.getAttribute("data-proof"), { credentials: "omit", headers: { Accept: "application/json" } });
      if (!response.ok) { throw fail("proof not served"); }
      var verified = await verifyProof(await response.json());
      var shown = checkShown(verified);
      if (shown.missing > 0) { throw fail("a step is not in the evidence"); }
      if (verified.unproven > 0) {
        show("incomplete", status.getAttribute("data-text-incomplete"), verified.count);
        return;
      }
      status.setAttribute("data-witness-cosignatures", String(verified.cosignatures));
      show("true", status.getAttribute("data-text-verified").replace("{entries}", String(verified.count))
        .replace("{witnesses}", String(verified.cosignatures)), verified.count);
    } catch (error) {
      status.setAttribute("data-verification-error", error && error.proof ? error.message : "verification failed");
      show("false", status.getAttribute("data-text-failed"));
    }
  }
  run();
})();
