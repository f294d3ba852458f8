//! The repository's fixtures, played by a loopback server to the tokio adapter.

tbi_test_support::fixture_replay_tests!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    tbi_tokio::Tokio
);
