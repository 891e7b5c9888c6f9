fn main() {
    // Only the addon needs Node-API's link setup; the pure core (`--no-default-features`) must
    // also build for windows-gnu, where napi-build would look for a libnode to link.
    if std::env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }
}
