//! The repository's fixtures, played by a loopback server to the async-std adapter.

tbi_test_support::fixture_replay_tests!(
    #[async_std::test]
    tbi_async_std::AsyncStd
);
