#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| event_fuzz::cloud_eye(data));
