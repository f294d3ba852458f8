//! `tbi demo`: the seed's flows, offline, against servers this process starts on
//! 127.0.0.1.

mod consultation;
mod incoming_call;

use tbi_driver::Runtime;

use crate::cli::DemoArgs;
use crate::exit::Exit;
use crate::interrupt::Interrupt;

pub(crate) async fn demo<R: Runtime>(args: DemoArgs, interrupt: &mut Interrupt) -> Exit {
    if args.iris {
        incoming_call::run::<R>(interrupt).await
    } else {
        consultation::run::<R>(interrupt).await
    }
}
