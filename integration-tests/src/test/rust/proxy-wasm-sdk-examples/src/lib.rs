// Empty: the plugins are the SDK's examples (see Cargo.toml).
