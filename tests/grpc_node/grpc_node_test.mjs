// Real Node clients of the gateway's genesis.proto services, against genesisd --demo (embedded
// gateway, free ports) and a test_service "slow":
//   - @grpc/grpc-js over HTTP/2 (h2c with prior knowledge), the proto loaded by
//     @grpc/proto-loader from proto/genesis.proto;
//   - @connectrpc/connect-node over HTTP/1.1: the Connect protocol (JSON and binary) and
//     gRPC-Web, the services taken at run time from a descriptor set of genesis.proto.
// Each client checks: a unary ping; an error whose ErrorInfo details it decodes; deadline
// exceeded; a server stream of events, then cancelled; a message at the size limit and one
// above it (RESOURCE_EXHAUSTED). The processes are always stopped and must exit cleanly.
//
//   node grpc_node_test.mjs --genesisd PATH --service PATH --proto FILE --descriptors FILE
//        [--lsan-supp FILE]
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import { syncBuiltinESMExports } from "node:module";
import os from "node:os";
import path from "node:path";

import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { create, createFileRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";

import { Proc, WAIT_MS, sleep } from "./procs.mjs";

const MAX_BODY = 65536; // the gateway's --max-body: the largest request message

function parseArgs(argv) {
  const a = {};
  for (let i = 2; i < argv.length; i += 2) a[argv[i].replace(/^--/, "")] = argv[i + 1];
  for (const k of ["genesisd", "service", "proto", "descriptors"])
    if (!a[k]) throw new Error("missing --" + k);
  return a;
}

const step = (t) => console.log("grpc-node: " + t);

// The slow service serves one request at a time: wait until the sleep a deadline abandoned is
// over, so the next client's deadline check finds it free (and not UNAVAILABLE).
async function slowIsFree(ping) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      await ping();
      return;
    } catch (e) {
      assert.ok(Date.now() < deadline, "the slow service stays busy: " + e);
      await sleep(100);
    }
  }
}

// ---- @grpc/grpc-js --------------------------------------------------------------------------

function grpcCall(client, method, req, deadlineMs) {
  return new Promise((resolve, reject) => {
    const opts = { deadline: new Date(Date.now() + (deadlineMs ?? WAIT_MS)) };
    client[method](req, new grpc.Metadata(), opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function grpcJsChecks(target, protoFile, ErrorInfo, RpcStatus, RequestType) {
  const def = protoLoader.loadSync(protoFile, { longs: String, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def).genesis.v1;
  const client = new pkg.Genesis(target, grpc.credentials.createInsecure());
  try {
    step("grpc-js: unary ping");
    const reply = await grpcCall(client, "Request", { target: "comp1", type: "ping" });
    assert.equal(Buffer.from(reply.payload.data).toString(), "Pong from comp1");

    step("grpc-js: error details");
    const err = await grpcCall(client, "Request", { target: "nope", type: "ping" }).then(
      () => assert.fail("no error"), (e) => e);
    assert.equal(err.code, grpc.status.NOT_FOUND);
    const bin = err.metadata.get("grpc-status-details-bin")[0];
    const st = RpcStatus.decode(bin);
    assert.equal(st.code, grpc.status.NOT_FOUND);
    assert.equal(st.details[0].typeUrl, "type.googleapis.com/genesis.v1.ErrorInfo");
    const info = ErrorInfo.decode(st.details[0].value);
    assert.equal(info.reason, "NOT_FOUND");
    assert.equal(info.component, "nope");
    assert.equal(info.protocol, "grpc");

    step("grpc-js: deadline exceeded");
    const late = await grpcCall(client, "Request",
      { target: "slow", type: "sleep", payload: { data: Buffer.from("2000") } }, 300).then(
      () => assert.fail("no deadline"), (e) => e);
    assert.equal(late.code, grpc.status.DEADLINE_EXCEEDED);
    await slowIsFree(() => grpcCall(client, "Request", { target: "slow", type: "ping" }));

    step("grpc-js: a stream of events, then cancelled");
    const call = client.Watch({ types: ["node.grpc"] });
    const events = [];
    let ended = null;
    call.on("data", (ev) => events.push(ev));
    call.on("error", (e) => { ended = e; });
    const deadline = Date.now() + WAIT_MS;
    for (let n = 1; events.length < 3; n++) {
      assert.ok(Date.now() < deadline, "no events on the stream");
      await grpcCall(client, "Emit", { type: "node.grpc", source: "node", payload: { data: Buffer.from("e" + n) } });
      await grpcCall(client, "Emit", { type: "other", source: "node" });
      await sleep(20);
    }
    for (const ev of events) assert.equal(ev.type, "node.grpc");
    call.cancel();
    while (ended === null) {
      assert.ok(Date.now() < deadline, "the cancelled stream never ended");
      await sleep(10);
    }
    assert.equal(ended.code, grpc.status.CANCELLED);

    step("grpc-js: messages at and above the size limit");
    const at = sized(RequestType, MAX_BODY);
    const echoed = await grpcCall(client, "Request", at);
    assert.equal(echoed.payload.data.length, at.payload.data.length);
    const big = await grpcCall(client, "Request", sized(RequestType, MAX_BODY + 1)).then(
      () => assert.fail("accepted"), (e) => e);
    assert.equal(big.code, grpc.status.RESOURCE_EXHAUSTED);
    const bigInfo = ErrorInfo.decode(RpcStatus.decode(big.metadata.get("grpc-status-details-bin")[0]).details[0].value);
    assert.equal(bigInfo.reason, "MESSAGE_TOO_LARGE");
  } finally {
    client.close();
  }
}

// A Request (plain object) whose protobuf encoding is exactly size bytes.
function sized(RequestType, size) {
  const req = { target: "comp1", type: "echo", payload: { data: Buffer.alloc(0), contentType: "text/plain" } };
  let pad = size - RequestType.encode(RequestType.fromObject(req)).finish().length;
  for (;;) {
    req.payload.data = Buffer.alloc(pad, 0x78);
    const n = RequestType.encode(RequestType.fromObject(req)).finish().length;
    if (n === size) return { target: req.target, type: req.type, payload: { data: req.payload.data, contentType: "text/plain" } };
    pad -= n - size;
  }
}

// ---- @connectrpc/connect-node: Connect and gRPC-Web ------------------------------------------

// sizeChecks: the limit applies to the request body, and JSON is larger than the protobuf it
// carries, so the size checks run with the binary codecs (connect-proto, grpc-web).
async function connectChecks(name, transport, reg, sizeChecks) {
  const Genesis = reg.getService("genesis.v1.Genesis");
  const ErrorInfo = reg.getMessage("genesis.v1.ErrorInfo");
  const RequestSchema = reg.getMessage("genesis.v1.Request");
  const client = createClient(Genesis, transport);

  step(name + ": unary ping");
  const reply = await client.request({ target: "comp1", type: "ping" });
  assert.equal(Buffer.from(reply.payload.data).toString(), "Pong from comp1");

  step(name + ": error details");
  const err = await client.request({ target: "nope", type: "ping" }).then(
    () => assert.fail("no error"), (e) => ConnectError.from(e));
  assert.equal(err.code, Code.NotFound);
  const infos = err.findDetails(ErrorInfo);
  assert.equal(infos.length, 1, "ErrorInfo in the details");
  assert.equal(infos[0].reason, "NOT_FOUND");
  assert.equal(infos[0].component, "nope");

  step(name + ": deadline exceeded");
  const late = await client.request(
    { target: "slow", type: "sleep", payload: { data: Buffer.from("2000") } }, { timeoutMs: 300 }).then(
    () => assert.fail("no deadline"), (e) => ConnectError.from(e));
  assert.equal(late.code, Code.DeadlineExceeded);
  await slowIsFree(() => client.request({ target: "slow", type: "ping" }));

  step(name + ": a stream of events, then cancelled");
  const abort = new AbortController();
  const events = [];
  const type = "node." + name.replace(/[^a-z]/g, "");
  const reading = (async () => {
    try {
      for await (const ev of client.watch({ types: [type] }, { signal: abort.signal })) events.push(ev);
      return null;
    } catch (e) {
      return ConnectError.from(e);
    }
  })();
  const deadline = Date.now() + WAIT_MS;
  for (let n = 1; events.length < 3; n++) {
    assert.ok(Date.now() < deadline, "no events on the stream");
    await client.emit({ type, source: "node", payload: { data: Buffer.from("e" + n) } });
    await client.emit({ type: "other", source: "node" });
    await sleep(20);
  }
  for (const ev of events) {
    assert.equal(ev.type, type);
    assert.ok(ev.sequence > 0n);
  }
  abort.abort();
  const ended = await reading;
  assert.ok(ended !== null && ended.code === Code.Canceled, "cancelled: " + ended);

  if (!sizeChecks) return;
  step(name + ": messages at and above the size limit");
  const at = connectSized(RequestSchema, MAX_BODY);
  const echoed = await client.request(at);
  assert.equal(echoed.payload.data.length, at.payload.data.length);
  const big = await client.request(connectSized(RequestSchema, MAX_BODY + 1)).then(
    () => assert.fail("accepted"), (e) => ConnectError.from(e));
  assert.equal(big.code, Code.ResourceExhausted);
  assert.equal(big.findDetails(ErrorInfo)[0].reason, "MESSAGE_TOO_LARGE");
}

// Connect GET for Status (its idempotency_level in the descriptors) and gzip both ways, in
// Connect and gRPC-Web, as connect-node sends them.
async function getAndGzipChecks(url, reg) {
  const Genesis = reg.getService("genesis.v1.Genesis");
  const RequestSchema = reg.getMessage("genesis.v1.Request");
  // The HTTP method each call went out with: connect-node picks GET inside its transport,
  // after interceptors, so the record is taken where it calls node:http.
  const methods = [];
  const request = http.request;
  http.request = (target, options, ...rest) => {
    methods.push(options?.method ?? "GET");
    return request.call(http, target, options, ...rest);
  };
  syncBuiltinESMExports();
  const gzip = { sendCompression: compressionGzip, acceptCompression: [compressionGzip], compressMinBytes: 0 };
  const compressed = async () => {
    const text = await (await fetch(url + "/metrics")).text();
    const n = (dir) => Number(text.match(new RegExp(
      'genesis_gateway_rpc_compressed_messages_total\\{direction="' + dir + '"\\} (\\d+)'))[1]);
    return { in: n("in"), out: n("out") };
  };

  step("connect: Status by GET");
  const get = createClient(Genesis, createConnectTransport({ baseUrl: url, httpVersion: "1.1", useHttpGet: true }));
  try {
    const report = await get.status({});
    assert.ok(report.components.some((c) => c.id === "comp1"));
    await get.request({ target: "comp1", type: "ping" });
  } finally {
    http.request = request;
    syncBuiltinESMExports();
  }
  assert.deepEqual(methods, ["GET", "POST"], "Status by GET, Request by POST");

  for (const [name, transport] of [
    ["connect-gzip", createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: true, ...gzip })],
    ["connect-json-gzip", createConnectTransport({ baseUrl: url, httpVersion: "1.1", ...gzip })],
    ["grpc-web-gzip", createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1", ...gzip })],
  ]) {
    step(name + ": a request and its reply compressed");
    const before = await compressed();
    const client = createClient(Genesis, transport);
    const at = connectSized(RequestSchema, MAX_BODY);
    const echoed = await client.request(at);
    assert.equal(echoed.payload.data.length, at.payload.data.length);
    const after = await compressed();
    assert.ok(after.in > before.in && after.out > before.out, JSON.stringify({ before, after }));
  }
}

function connectSized(schema, size) {
  const msg = create(schema, { target: "comp1", type: "echo", payload: { contentType: "text/plain" } });
  let pad = size - toBinary(schema, msg).length;
  for (;;) {
    msg.payload.data = new Uint8Array(pad).fill(0x78);
    const n = toBinary(schema, msg).length;
    if (n === size) return msg;
    pad -= n - size;
  }
}

// ---- main -------------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "genesis-grpc-node-"));
  const procs = [];
  let failure = null;
  try {
    const daemon = new Proc([args.genesisd, "--demo", "--front-door", "tcp://127.0.0.1:0", "--events",
      "tcp://127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "warn", "--max-body", String(MAX_BODY)],
      "genesisd", tmp, args["lsan-supp"]);
    procs.push(daemon);
    const m = await daemon.line(/^ready front_door=(\S+) event_bus=(\S+) http=(\S+)$/m);
    const [frontDoor, eventBus, url] = [m[1], m[2], m[3]];
    const service = new Proc([args.service, "--id", "slow", "--front-door", frontDoor, "--events", eventBus,
      "--listen", "ipc://" + path.join(tmp, "slow.sock")], "service-slow", tmp, args["lsan-supp"]);
    procs.push(service);
    await service.line(/^ready /m);

    const protobuf = (await import("protobufjs")).default;
    const root = protobuf.loadSync(args.proto);
    await grpcJsChecks(url.replace("http://", ""), args.proto, root.lookupType("genesis.v1.ErrorInfo"),
      root.lookupType("genesis.v1.RpcStatus"), root.lookupType("genesis.v1.Request"));

    const reg = createFileRegistry(fromBinary(FileDescriptorSetSchema, fs.readFileSync(args.descriptors)));
    await connectChecks("connect-json", createConnectTransport({ baseUrl: url, httpVersion: "1.1" }), reg, false);
    await connectChecks("connect-proto",
      createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: true }), reg, true);
    await connectChecks("grpc-web", createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }), reg, true);
    await getAndGzipChecks(url, reg);
    step("all checks passed");
  } catch (e) {
    failure = e;
  }
  for (const p of procs.reverse()) {
    try { await p.stop(); } catch (e) { failure = failure ?? e; }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  if (failure) {
    console.error(failure);
    process.exit(1);
  }
  process.exit(0);
}

main();
