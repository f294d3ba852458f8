//! The shared scenarios against real sockudo and soketi servers on loopback, on async-std.

tbi_test_support::real_server_tests!(
    #[async_std::test]
    tbi_async_std::AsyncStd
);

#[async_std::test]
async fn shared_instance_keeps_one_socket() {
    let server =
        tbi_test_support::servers::Server::shared(tbi_test_support::servers::ServerKind::Sockudo);
    tbi_test_support::scenarios::shared_instance(&tbi_async_std::shared::INSTANCE, &server).await;
}

/// The socket needs no async-std context at the call site: it runs under any executor.
#[test]
fn runs_under_a_foreign_executor() {
    let server =
        tbi_test_support::servers::Server::shared(tbi_test_support::servers::ServerKind::Sockudo);
    futures::executor::block_on(tbi_test_support::scenarios::public_channel::<
        tbi_async_std::AsyncStd,
    >(&server));
}
