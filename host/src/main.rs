fn main() -> std::process::ExitCode {
    jettrellis::cli::main()
}
