#!/bin/sh
# Build the grpc-go client (main.go) against Debian's Go packages in GOPATH mode, offline, into
# BUILD_DIR, generate genesis.proto's descriptor set there, and run it.
#   run.sh BUILD_DIR PYTHON3 PROTO GENESISD TEST_SERVICE
set -eu
build=$1 python=$2 proto=$3 genesisd=$4 service=$5
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/gopath/src/genesis-grpc-go-test"
cp "$src/main.go" "$build/gopath/src/genesis-grpc-go-test/main.go"
"$python" -m grpc_tools.protoc -I "$(dirname "$proto")" --include_imports \
  --descriptor_set_out="$build/genesis.binpb" "$proto"
cd "$build/gopath/src/genesis-grpc-go-test"
GOPATH="$build/gopath:/usr/share/gocode" GO111MODULE=off GOPROXY=off GOFLAGS= \
  GOCACHE="$build/gocache" go build -o "$build/grpc_go_test" .
exec "$build/grpc_go_test" -genesisd "$genesisd" -service "$service" \
  -descriptors "$build/genesis.binpb"
