//! Not the product: the product binary is `outpost` (src-tauri), which
//! calls `outpost_cli::run` when given arguments. This stand-in runs the same
//! commands without the app around them, so they can be tested as a real
//! process on a machine with no display or WebKit.

fn main() -> std::process::ExitCode {
    outpost_cli::run(std::env::args_os(), &outpost_cli::Config::default())
}
