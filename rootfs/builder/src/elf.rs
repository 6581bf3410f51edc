//! Just enough ELF to answer one question: is this program statically linked?
//!
//! A dynamically linked program names its loader (e.g. `/lib64/ld-linux-x86-64.so.2`)
//! in a `PT_INTERP` program header. Inside our chroot there is no loader and no libc,
//! so only a program *without* `PT_INTERP` can run there.

use std::fs;
use std::io;
use std::path::Path;

/// Program header type of the "which loader runs me" entry.
const PT_INTERP: u32 = 3;

/// True if `path` is a 64-bit ELF file with no `PT_INTERP` header (statically linked).
pub(crate) fn is_static_elf64(path: &Path) -> io::Result<bool> {
    let bytes = fs::read(path)?;
    Ok(has_no_interpreter(&bytes).unwrap_or(false))
}

/// `None` when the file is too short or not a 64-bit ELF file we understand.
fn has_no_interpreter(b: &[u8]) -> Option<bool> {
    // e_ident: magic, class (2 = 64-bit), data (1 = little-endian, 2 = big-endian).
    if b.get(0..4)? != b"\x7fELF" || *b.get(4)? != 2 {
        return None;
    }
    let little_endian = match *b.get(5)? {
        1 => true,
        2 => false,
        _ => return None,
    };
    let bytes_at = |offset: usize, len: usize| -> Option<u64> {
        let field = b.get(offset..offset.checked_add(len)?)?;
        let fold = |acc: u64, byte: &u8| (acc << 8) | u64::from(*byte);
        Some(match little_endian {
            true => field.iter().rev().fold(0, fold),
            false => field.iter().fold(0, fold),
        })
    };
    // ELF64 header: e_phoff at 0x20, e_phentsize at 0x36, e_phnum at 0x38.
    let table = usize::try_from(bytes_at(0x20, 8)?).ok()?;
    let entry_size = usize::try_from(bytes_at(0x36, 2)?).ok()?;
    let entries = bytes_at(0x38, 2)?;
    for index in 0..usize::try_from(entries).ok()? {
        // Each program header starts with its 4-byte p_type.
        let entry = table.checked_add(index.checked_mul(entry_size)?)?;
        if bytes_at(entry, 4)? == u64::from(PT_INTERP) {
            return Some(false);
        }
    }
    Some(true)
}
