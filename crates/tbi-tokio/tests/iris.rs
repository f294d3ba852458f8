//! The Iris RTC connection against the loopback Iris server, on tokio.

tbi_test_support::iris_tests!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    tbi_tokio::Tokio
);
