//! Settings as the host's storage or the settings tab hands them over: valid settings or
//! INVALID_SETTINGS with reasons; valid ones load again from what they serialize to.
#![no_main]
use contact_sync::error::ErrorCode;
use contact_sync::settings::Settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    match Settings::from_value(&value) {
        Ok(settings) => {
            let again = serde_json::to_value(&settings).expect("settings serialize");
            assert_eq!(Settings::from_value(&again).expect("valid settings load again"), settings);
        }
        Err(e) => assert_eq!(e.code, ErrorCode::InvalidSettings),
    }
});
