//! `outpost-course`: check, build, inspect and verify course packages.
//! Exit status: 0 ok, 1 errors found or verification failed, 2 usage.

use anyhow::Context;
use clap::{Parser, Subcommand};
use outpost_course::Diagnostics;
use outpost_package::{keys, Package};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "outpost-course",
    version,
    about = "Outpost course tools: validate, build, inspect and verify course packages"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check every course under DIR; print every problem as path:line:col.
    Validate { dir: PathBuf },
    /// Build one signed package per course under DIR into --out.
    Build {
        dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// The publisher's signing key (from `keygen`). Without it the
        /// public development key signs, which no production device trusts.
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Describe a package: id, version, languages, modules, sizes, signer.
    Inspect {
        package: PathBuf,
        /// Machine-readable output (shape in docs/package-format.md).
        #[arg(long)]
        json: bool,
    },
    /// Check a package's signature and content hash against a public key.
    Verify {
        package: PathBuf,
        #[arg(long)]
        pubkey: PathBuf,
    },
    /// Write a new signing key to FILE and its public key to FILE.pub.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Print a Markdown outline of the course(s) under DIR.
    Outline { dir: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn print_diagnostics(d: &Diagnostics) {
    let mut err = std::io::stderr().lock();
    for x in d.iter() {
        let _ = writeln!(err, "{x}");
    }
}

fn summary(d: &Diagnostics) -> String {
    let e = d.errors().count();
    let w = d.warnings().count();
    format!(
        "{e} error{}, {w} warning{}",
        if e == 1 { "" } else { "s" },
        if w == 1 { "" } else { "s" }
    )
}

/// Print to stdout; a closed pipe (`| head`) is not an error.
fn out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Validate { dir } => {
            let (courses, diags) = outpost_course::load(&dir);
            print_diagnostics(&diags);
            let names: Vec<String> = courses
                .iter()
                .map(|c| format!("{} {}", c.id(), c.version()))
                .collect();
            if courses.is_empty() && !diags.has_errors() {
                out(&format!(
                    "{}: no course found yet (a course is a folder with course.toml)\n",
                    dir.display()
                ));
            } else {
                out(&format!(
                    "checked {} course{} ({}): {}\n",
                    courses.len(),
                    if courses.len() == 1 { "" } else { "s" },
                    names.join(", "),
                    summary(&diags)
                ));
            }
            Ok(if diags.has_errors() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Build {
            dir,
            out: out_dir,
            key,
        } => {
            let key = match key {
                Some(path) => keys::read_signing_key(&path)?,
                None => {
                    let k = outpost_course::development_key();
                    eprintln!(
                        "warning: no --key given: signing with the public development key {} — fine for testing, but no production device trusts it; make a publisher key with `outpost-course keygen --out publisher.key`",
                        hex::encode(k.verifying_key().as_bytes())
                    );
                    k
                }
            };
            match outpost_course::build(&dir, &out_dir, &key) {
                Ok(built) => {
                    for w in &built.warnings {
                        eprintln!("{w}");
                    }
                    for p in &built.packages {
                        out(&format!(
                            "wrote {} ({} {}, {} bytes, sha256 {})\n",
                            p.path.display(),
                            p.id,
                            p.version,
                            p.size,
                            p.content_hash
                        ));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(outpost_course::BuildError::Invalid(d)) => {
                    print_diagnostics(&d);
                    eprintln!("build failed: {}; no package written", summary(&d));
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Inspect { package, json } => {
            let i = outpost_course::inspect(&package)?;
            if json {
                let text =
                    serde_json::to_string_pretty(&i).context("serialising the inspection")?;
                out(&format!("{text}\n"));
            } else {
                out(&i.to_string());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { package, pubkey } => {
            let key = keys::read_verifying_key(&pubkey)?;
            let pkg = Package::open(&package)?;
            let signer = pkg.verify(&[key])?;
            out(&format!(
                "{}: OK — {} {} signed by {}, content sha256 {}\n",
                package.display(),
                pkg.manifest().id,
                pkg.manifest().version,
                hex::encode(signer.as_bytes()),
                pkg.content_hash_hex()
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen { out: path } => {
            keygen(&path)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Outline { dir } => {
            let (courses, diags) = outpost_course::load(&dir);
            if diags.has_errors() {
                print_diagnostics(&diags);
                eprintln!("no outline: {}", summary(&diags));
                return Ok(ExitCode::from(1));
            }
            print_diagnostics(&diags);
            if courses.is_empty() {
                anyhow::bail!(
                    "{}: no course found (a course is a folder with course.toml)",
                    dir.display()
                );
            }
            let text: Vec<String> = courses.iter().map(outpost_course::outline).collect();
            out(&text.join("\n"));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn keygen(path: &Path) -> anyhow::Result<()> {
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    let pub_path = PathBuf::from(pub_path);
    // Refuse before writing anything, so no half key pair is left behind.
    for p in [path, pub_path.as_path()] {
        if p.exists() {
            anyhow::bail!("{} already exists; keys are never overwritten", p.display());
        }
    }
    let key = keys::generate();
    keys::write_signing_key(path, &key)?;
    keys::write_verifying_key(&pub_path, &key.verifying_key())?;
    out(&format!(
        "wrote {} (secret: keep it safe) and {} (public key {})\n",
        path.display(),
        pub_path.display(),
        hex::encode(key.verifying_key().as_bytes())
    ));
    Ok(())
}
