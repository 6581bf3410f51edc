//! Tiny static programs that step 7's lock-down checks run inside a container, for
//! what busybox cannot try: each makes one system call the way another program
//! could, and exits with 0 if the kernel allowed it, else with the errno. Written
//! out byte by byte (an ELF header, one program header, the code, its strings), a
//! few dozen bytes each, so they need no compiler for another architecture and can
//! be handed to the container's shell through `printf`.

/// `mount("none", "/tmp", "tmpfs", 0, NULL)` made as an i386 program does, through
/// `int 0x80`, where mount is call 21 (x86_64's `access`); on success it unmounts
/// again (umount2, 52) and exits 0. An x86_64 kernel runs it if it has IA32
/// emulation (most distributions' do).
pub fn i386_mount() -> Vec<u8> {
    const BASE: u32 = 0x0804_8000; // where it is loaded
    const HEADERS: u32 = 52 + 32; // the ELF header, one program header
    const CODE: u32 = 64; // the length of `code` below
    let data = b"none\0/tmp\0tmpfs\0";
    let at = |offset: u32| (BASE + HEADERS + CODE + offset).to_le_bytes();
    let (none, tmp, tmpfs) = (at(0), at(5), at(10));
    let mut code = Vec::new();
    code.extend([0xb8, 21, 0, 0, 0]); // mov eax, 21 (mount)
    code.extend([0xbb].iter().chain(&none)); // mov ebx, source
    code.extend([0xb9].iter().chain(&tmp)); // mov ecx, target
    code.extend([0xba].iter().chain(&tmpfs)); // mov edx, type
    code.extend([0x31, 0xf6, 0x31, 0xff, 0xcd, 0x80]); // xor esi, esi; xor edi, edi; int 0x80
    code.extend([0x85, 0xc0, 0x75, 23]); // test eax, eax; jnz +23 (to `failed`)
    code.extend([0xb8, 52, 0, 0, 0]); // mov eax, 52 (umount2)
    code.extend([0xbb].iter().chain(&tmp)); // mov ebx, target
    code.extend([0x31, 0xc9, 0xcd, 0x80]); // xor ecx, ecx; int 0x80
    code.extend([0x31, 0xdb, 0xb8, 1, 0, 0, 0, 0xcd, 0x80]); // exit(0)
    code.extend([0xf7, 0xd8, 0x89, 0xc3, 0xb8, 1, 0, 0, 0, 0xcd, 0x80]); // failed: exit(-eax)
    debug_assert_eq!(code.len() as u32, CODE);
    let size = HEADERS + CODE + data.len() as u32;
    let mut elf = b"\x7fELF\x01\x01\x01".to_vec(); // 32-bit, little-endian, version 1
    elf.resize(16, 0);
    // e_type EXEC, e_machine 386; e_version, e_entry, e_phoff, e_shoff, e_flags;
    // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx.
    for half in [2u16, 3] {
        elf.extend(half.to_le_bytes());
    }
    for word in [1, BASE + HEADERS, 52, 0, 0] {
        elf.extend(word.to_le_bytes());
    }
    for half in [52u16, 32, 1, 0, 0, 0] {
        elf.extend(half.to_le_bytes());
    }
    // One PT_LOAD of the whole file, readable and executable.
    for word in [1, 0, BASE, BASE, size, size, 5, 0x1000] {
        elf.extend(word.to_le_bytes());
    }
    elf.extend(code);
    elf.extend(data);
    elf
}

/// `fsopen("proc", 0)` (call 430), the first step of the new mount API
/// (fsopen, fsconfig, fsmount, move_mount): a filter that refuses mount(2) alone
/// lets a program mount through it. Exits 0 if the kernel opened a filesystem
/// context (closed again as it exits: nothing is mounted), else the errno.
pub fn x86_64_fsopen() -> Vec<u8> {
    const BASE: u64 = 0x40_0000;
    const HEADERS: u64 = 64 + 56;
    let data = b"proc\0";
    let mut code = Vec::new();
    code.extend([0xb8, 0xae, 0x01, 0, 0]); // mov eax, 430 (fsopen)
    code.extend([0x48, 0x8d, 0x3d, 30, 0, 0, 0]); // lea rdi, [rip + 30] ("proc")
    code.extend([0x31, 0xf6, 0x0f, 0x05]); // xor esi, esi; syscall
    code.extend([0x48, 0x85, 0xc0, 0x78, 9]); // test rax, rax; js +9 (to `failed`)
    code.extend([0x31, 0xff, 0xb8, 60, 0, 0, 0, 0x0f, 0x05]); // exit(0)
    code.extend([0x48, 0xf7, 0xd8, 0x89, 0xc7, 0xb8, 60, 0, 0, 0, 0x0f, 0x05]); // failed: exit(-rax)
    debug_assert_eq!(code.len(), 42); // the lea's 30: from its end (12) to the string (42)
    let size = HEADERS + code.len() as u64 + data.len() as u64;
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec(); // 64-bit, little-endian, version 1
    elf.resize(16, 0);
    // e_type EXEC, e_machine x86_64, e_version; e_entry, e_phoff, e_shoff; e_flags;
    // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx.
    elf.extend(2u16.to_le_bytes());
    elf.extend(0x3eu16.to_le_bytes());
    elf.extend(1u32.to_le_bytes());
    for quad in [BASE + HEADERS, 64, 0] {
        elf.extend(quad.to_le_bytes());
    }
    elf.extend(0u32.to_le_bytes());
    for half in [64u16, 56, 1, 0, 0, 0] {
        elf.extend(half.to_le_bytes());
    }
    // One PT_LOAD of the whole file, readable and executable.
    elf.extend(1u32.to_le_bytes());
    elf.extend(5u32.to_le_bytes());
    for quad in [0, BASE, BASE, size, size, 0x1000] {
        elf.extend(quad.to_le_bytes());
    }
    elf.extend(code);
    elf.extend(data);
    elf
}

/// A shell script that writes `program` to a file of its own in /tmp (busybox's
/// `printf` takes octal escapes), runs it, prints `code N` with its exit status,
/// and removes it. Exit code 90 if it could not be written.
pub fn script_running(program: &[u8]) -> String {
    let octal: String = program.iter().map(|byte| format!("\\{byte:03o}")).collect();
    format!(
        "f=$(mktemp /tmp/probe.XXXXXX) && printf '{octal}' > $f && chmod +x $f || exit 90\n\
         $f; echo \"code $?\"; rm -f $f"
    )
}

/// The `code N` that [`script_running`]'s script printed.
pub fn exit_code_printed(stdout: &str) -> Option<i32> {
    stdout.lines().find_map(|line| line.strip_prefix("code ")?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_program_is_an_elf_file_its_header_says_the_size_of() {
        let i386 = i386_mount();
        assert_eq!((&i386[..4], i386[4], i386.len()), (&b"\x7fELF"[..], 1, 164));
        let fsopen = x86_64_fsopen();
        assert_eq!((&fsopen[..4], fsopen[4], fsopen.len()), (&b"\x7fELF"[..], 2, 167));
    }

    #[test]
    fn the_script_hands_the_bytes_over_in_octal_and_its_code_is_read_back() {
        let script = script_running(b"\x7fE");
        assert!(script.contains(r"printf '\177\105'"), "{script}");
        assert_eq!(exit_code_printed("hello\ncode 159\n"), Some(159));
        assert_eq!(exit_code_printed("nothing"), None);
    }
}
