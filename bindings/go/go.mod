module genesis.dev/bindings/go

go 1.19
