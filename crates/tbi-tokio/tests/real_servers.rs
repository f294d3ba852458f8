//! The shared scenarios against real sockudo and soketi servers on loopback, on tokio.

tbi_test_support::real_server_tests!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    tbi_tokio::Tokio
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_instance_keeps_one_socket() {
    let server =
        tbi_test_support::servers::Server::shared(tbi_test_support::servers::ServerKind::Sockudo);
    tbi_test_support::scenarios::shared_instance(&tbi_tokio::shared::INSTANCE, &server).await;
}
