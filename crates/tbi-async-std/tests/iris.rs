//! The Iris RTC connection against the loopback Iris server, on async-std.

tbi_test_support::iris_tests!(
    #[async_std::test]
    tbi_async_std::AsyncStd
);
