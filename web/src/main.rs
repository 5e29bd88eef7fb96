//! `tessera`: runs the command line and turns any failure into one line on stderr and exit
//! code 1.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = tessera_web::cli::Cli::parse();
    match tessera_web::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let line = format!("{error:#}").replace('\n', " ");
            eprintln!("tessera: {line}");
            ExitCode::FAILURE
        }
    }
}
