//! One macro generates every real-server test for an adapter, so both adapters run exactly
//! the same list.

/// Generates a test per scenario per server, plus the restart tests, for one runtime:
///
/// ```text
/// tbi_test_support::real_server_tests!(#[tokio::test(flavor = "multi_thread")] tbi_tokio::Tokio);
/// ```
#[macro_export]
macro_rules! real_server_tests {
    (#[$test:meta] $runtime:ty) => {
        $crate::real_server_tests!(@kind sockudo Sockudo #[$test] $runtime);
        $crate::real_server_tests!(@kind soketi Soketi #[$test] $runtime);
        $crate::real_server_tests!(@faults #[$test] $runtime);
    };
    (@kind $module:ident $kind:ident #[$test:meta] $runtime:ty) => {
        mod $module {
            $crate::real_server_tests!(@scenarios $kind #[$test] $runtime;
                public_channel,
                private_channel,
                presence_channel,
                encrypted_channel,
                client_events,
                cache_channels,
                signin_and_user_event,
                auth_refused_by_endpoint,
                auth_endpoint_failures,
                auth_rejected_by_server,
                unknown_app_key,
                unsubscribe,
                heartbeat,
                tbisocket_handlers,
                reinit_keeps_subscriptions_and_handlers,
                slow_auth_endpoint,
                tls_end_to_end,
                token_expires_while_waiting,
                token_provider_refreshes_once,
                encrypted_key_refresh_waits_for_a_new_token,
                consultation_watch,
                a_channel_stream_has_only_its_own_events,
                a_presence_channel_object,
                readiness_resolves_or_says_why,
            );

            #[$test]
            async fn resubscribe_after_restart() {
                $crate::scenarios::resubscribe_after_restart::<$runtime>($crate::servers::ServerKind::$kind).await;
            }
        }
    };
    (@faults #[$test:meta] $runtime:ty) => {
        /// Faults: each test starts its own sockudo, proxy or scripted server.
        mod faults {
            $crate::real_server_tests!(@scenarios Sockudo #[$test] $runtime;
                latency_and_trickle_break_nothing,
                a_stalled_network_is_detected_and_recovered,
                a_reset_mid_frame_reconnects,
                a_blackhole_times_out_and_retries,
                auth_endpoint_faults_are_typed_and_retried,
                network_changed_finds_a_zombie_socket_at_once,
                network_changed_keeps_a_live_socket,
                network_changed_cuts_the_backoff_short,
                channel_handlers_are_many_and_survive_reconnects,
            );

            #[$test]
            async fn server_killed_mid_stream_resubscribes_every_channel() {
                $crate::scenarios::server_killed_mid_stream_resubscribes_every_channel::<$runtime>().await;
            }

            #[$test]
            async fn half_open_server_is_detected_and_recovered() {
                $crate::scenarios::half_open_server_is_detected_and_recovered::<$runtime>().await;
            }

            #[$test]
            async fn close_codes_from_a_scripted_server() {
                $crate::scenarios::close_codes_from_a_scripted_server::<$runtime>().await;
            }
        }
    };
    (@scenarios $kind:ident #[$test:meta] $runtime:ty; $($scenario:ident,)*) => {
        $(
            #[$test]
            async fn $scenario() {
                let server = $crate::servers::Server::shared($crate::servers::ServerKind::$kind);
                $crate::scenarios::$scenario::<$runtime>(&server).await;
            }
        )*
    };
}

/// Generates a test per real-time fixture, replayed over loopback sockets on one runtime.
#[macro_export]
macro_rules! fixture_replay_tests {
    (#[$test:meta] $runtime:ty) => {
        $crate::fixture_replay_tests!(@each #[$test] $runtime;
            public_subscribe => "public-subscribe",
            private_auth => "private-auth",
            presence => "presence",
            encrypted_rekey => "encrypted-rekey",
            reconnect_4200 => "reconnect-4200",
            reconnect_4100 => "reconnect-4100",
            reconnect_1006 => "reconnect-1006",
            refused_4001 => "refused-4001",
            auth_failure => "auth-failure",
            consultation_flow => "consultation-flow",
            token_refresh => "token-refresh",
        );

        #[test]
        fn every_real_time_fixture_has_a_test() {
            let tested = [
                "public-subscribe", "private-auth", "presence", "encrypted-rekey", "reconnect-4200",
                "reconnect-4100", "reconnect-1006", "refused-4001", "auth-failure", "consultation-flow",
                "token-refresh",
            ];
            assert_eq!(tested, $crate::fixture_replay::REAL_TIME_FIXTURES);
        }
    };
    (@each #[$test:meta] $runtime:ty; $($name:ident => $file:literal,)*) => {
        $(
            #[$test]
            async fn $name() {
                $crate::fixture_replay::replay::<$runtime>($file).await;
            }
        )*

        #[$test]
        async fn stopped_watch_closes_its_socket() {
            $crate::scenarios::stopped_watch_closes_its_socket::<$runtime>().await;
        }

        $crate::fixture_replay_tests!(@hostile #[$test] $runtime;
            a_stream_nobody_reads_stays_bounded,
            a_slow_lossless_stream_gets_every_event,
            a_burst_reaches_a_waiting_stream_to_its_last_event,
            a_server_that_stops_reading_is_dropped,
            a_flood_does_not_starve_auth_answers_or_timers,
            auth_requests_of_a_lost_socket_are_cancelled,
            websocket_pings_count_as_activity,
        );
    };
    (@hostile #[$test:meta] $runtime:ty; $($scenario:ident,)*) => {
        $(
            #[$test]
            async fn $scenario() {
                $crate::scenarios::$scenario::<$runtime>().await;
            }
        )*
    };
}

/// Generates a test per Iris scenario, against the loopback Iris server, for one runtime:
///
/// ```text
/// tbi_test_support::iris_tests!(#[tokio::test(flavor = "multi_thread")] tbi_tokio::Tokio);
/// ```
#[macro_export]
macro_rules! iris_tests {
    (#[$test:meta] $runtime:ty) => {
        $crate::iris_tests!(@each #[$test] $runtime;
            connect,
            stream_variants,
            notification,
            reject,
            ping_timeout_reconnects,
            server_drop_reconnects_with_new_token,
            unauthorized_during_reconnect,
            reconnect_deadline,
            disconnect_iq,
            close,
            first_connect_failures,
            refused_upgrade,
            parameters,
            handlers,
            tls_end_to_end,
            dropped_handles_close,
            sasl_failure,
            hostile_stanzas_fail_the_stream_and_reconnect,
            an_unread_stream_lags_and_the_handler_gets_everything,
            through_a_trickling_then_stalled_network,
            network_changed_probes_and_retries_now,
        );
    };
    (@each #[$test:meta] $runtime:ty; $($scenario:ident,)*) => {
        $(
            #[$test]
            async fn $scenario() {
                $crate::iris::scenarios::$scenario::<$runtime>().await;
            }
        )*
    };
}
