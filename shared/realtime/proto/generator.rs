fn main() {
    let out = std::env::args().nth(1).expect("out dir");
    let fds = protox::compile(["gtfs-realtime.proto"], ["proto"]).expect("compile");
    prost_build::Config::new().out_dir(out).compile_fds(fds).expect("generate");
}
