//! Resident memory of the long-running processes (init, the superserver). They spend
//! almost all their lives idle; what they needed only to start need not stay resident
//! meanwhile:
//! - the read-only segments of the binary and its libraries (code, constants, unwind
//!   tables, the relocations a static-pie binary applies to itself at start): their pages
//!   stay in the page cache, and those still used fault back in at once;
//! - free memory inside the C library's heap (`malloc_trim`);
//! - the stack below the idle frame, deep only while starting (main thread only).
//!
//! What must stay: every page the process wrote. A read-only mapping can hold written
//! pages — RELRO (relocated at start, then made read-only) and text relocated in place
//! (`DT_TEXTREL`) are private copies, and dropping them would bring back the unrelocated
//! file contents — so only segments that were never writable are released.
//!
//! Each page touched after the trim faults back together with its neighbours (the
//! kernel's fault-around, 64 kB), so the trim is the last thing before the process
//! blocks, and it and the wait go through one C library entry (`syscall`).

use std::time::Duration;

/// How long a daemon must have been idle before it releases its start-up memory.
pub const TRIM_AFTER: Duration = Duration::from_secs(1);

/// Most read-only segments remembered per trim (a binary has two or three, each library
/// as many; init and the superserver link a handful of libraries at most).
const MAX_SEGMENTS: usize = 64;

/// A page-aligned address range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Range {
    start: usize,
    end: usize,
}

/// The read-only segments found so far (no allocation: the heap is trimmed too).
struct Segments {
    ranges: [Range; MAX_SEGMENTS],
    len: usize,
    /// The kernel's vDSO, a special mapping that is not ours to release.
    vdso: usize,
}

/// Releases idle start-up memory (see the module), then runs `wait`, the call that blocks
/// until the next event. `wait` should do as little as possible before blocking: each
/// page it touches comes back.
pub fn trim_then<R>(wait: impl FnOnce() -> R) -> R {
    release_free_heap();
    let segments = read_only_segments();
    let stack = dead_stack();
    for range in segments.ranges[..segments.len].iter().chain(stack.iter()) {
        dont_need(*range);
    }
    wait()
}

/// Releases idle start-up memory now (the caller blocks right after).
pub fn trim_resident_code() {
    trim_then(|| ())
}

/// Blocks in poll(2) with no timeout through `syscall`, the entry the trim itself used.
pub fn poll_forever(fds: &mut [nix::poll::PollFd]) -> nix::Result<i32> {
    // SAFETY: nix's PollFd is #[repr(transparent)] over libc::pollfd; the kernel writes
    // only the `revents` of the `len` entries.
    let n = unsafe {
        libc::syscall(
            libc::SYS_ppoll,
            fds.as_mut_ptr().cast::<libc::pollfd>(),
            fds.len() as libc::nfds_t,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<libc::sigset_t>(),
            0usize,
        )
    };
    nix::errno::Errno::result(n).map(|n| n as i32)
}

fn dont_need(range: Range) {
    if range.end > range.start {
        // SAFETY: the range holds no page whose contents matter (pages never written,
        // or dead stack; see the module): the kernel faults the pages back in, from the
        // file or zeroed.
        unsafe {
            libc::syscall(
                libc::SYS_madvise,
                range.start,
                range.end - range.start,
                libc::MADV_DONTNEED,
            )
        };
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_heap() {
    // SAFETY: malloc_trim only returns free memory to the kernel.
    unsafe { libc::malloc_trim(0) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_heap() {}

fn page_size() -> usize {
    // SAFETY: sysconf reads a constant.
    match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as usize,
        _ => 4096,
    }
}

/// The never-writable loaded segments of the binary and every library, pages wholly
/// inside them only.
fn read_only_segments() -> Segments {
    let mut segments = Segments {
        ranges: [Range::default(); MAX_SEGMENTS],
        len: 0,
        // SAFETY: getauxval reads the auxiliary vector.
        vdso: unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) } as usize,
    };
    // SAFETY: the callback only reads the program headers the C library hands it.
    unsafe {
        libc::dl_iterate_phdr(
            Some(collect_object),
            (&mut segments as *mut Segments).cast::<libc::c_void>(),
        )
    };
    segments
}

unsafe extern "C" fn collect_object(
    info: *mut libc::dl_phdr_info,
    _size: libc::size_t,
    data: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: dl_iterate_phdr passes a valid info and our own Segments.
    let (info, segments) = unsafe { (&*info, &mut *data.cast::<Segments>()) };
    if info.dlpi_phdr.is_null() {
        return 0;
    }
    // SAFETY: dlpi_phdr points to dlpi_phnum program headers.
    let headers = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum.into()) };
    let bias = info.dlpi_addr as usize;
    let span = |h: &libc::Elf64_Phdr| Range {
        start: bias + h.p_vaddr as usize,
        end: bias + (h.p_vaddr + h.p_memsz) as usize,
    };
    let loads = headers.iter().filter(|h| h.p_type == libc::PT_LOAD);
    if loads.clone().any(|h| contains(span(h), segments.vdso)) {
        return 0;
    }
    // SAFETY: the dynamic section of a loaded object is mapped and ends with DT_NULL.
    if unsafe { relocates_text(headers, bias) } {
        return 0;
    }
    let page = page_size();
    // Pages a written segment (or RELRO) of this object touches: never released.
    let written = |range: Range| {
        headers
            .iter()
            .filter(|h| {
                (h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_W != 0)
                    || h.p_type == libc::PT_GNU_RELRO
            })
            .any(|h| overlaps(outward(span(h), page), range))
    };
    for header in loads.filter(|h| h.p_flags & libc::PF_W == 0) {
        // The partial pages at either end too, unless a written segment shares them.
        let whole = outward(span(header), page);
        let range = if written(whole) {
            inward(span(header), page)
        } else {
            whole
        };
        if written(range) || segments.len == MAX_SEGMENTS {
            continue;
        }
        segments.ranges[segments.len] = range;
        segments.len += 1;
    }
    0
}

fn outward(range: Range, page: usize) -> Range {
    Range {
        start: range.start / page * page,
        end: range.end.next_multiple_of(page),
    }
}

fn inward(range: Range, page: usize) -> Range {
    Range {
        start: range.start.next_multiple_of(page),
        end: range.end / page * page,
    }
}

fn contains(range: Range, address: usize) -> bool {
    range.start <= address && address < range.end
}

fn overlaps(a: Range, b: Range) -> bool {
    a.start < b.end && b.start < a.end
}

/// Whether an object's dynamic section asks for relocations in its text (DT_TEXTREL, or
/// DF_TEXTREL in DT_FLAGS): its read-only segments were then written at load.
///
/// # Safety
/// `headers` and `bias` must describe a loaded object.
unsafe fn relocates_text(headers: &[libc::Elf64_Phdr], bias: usize) -> bool {
    const DT_NULL: u64 = 0;
    const DT_TEXTREL: u64 = 22;
    const DT_FLAGS: u64 = 30;
    const DF_TEXTREL: u64 = 0x4;
    let Some(dynamic) = headers.iter().find(|h| h.p_type == libc::PT_DYNAMIC) else {
        return false;
    };
    let mut entry = (bias + dynamic.p_vaddr as usize) as *const [u64; 2];
    loop {
        // SAFETY: the caller's promise; entries are (tag, value) pairs up to DT_NULL.
        let [tag, value] = unsafe { *entry };
        match tag {
            DT_NULL => return false,
            DT_TEXTREL => return true,
            DT_FLAGS if value & DF_TEXTREL != 0 => return true,
            _ => {}
        }
        // SAFETY: not past DT_NULL yet.
        entry = unsafe { entry.add(1) };
    }
}

/// The stack pages below the current frame of the main thread: written while starting,
/// dead since. The page below the frame stays (the ABI's red zone, and the calls still to
/// come). Down to 1 MB below: the main stack grows into no other mapping, and the kernel
/// keeps a guard gap of that size below it (madvise skips the unmapped part). Another
/// thread's stack may have neighbours, so it is left alone.
fn dead_stack() -> Option<Range> {
    // Through syscall: a static glibc links `gettid` as an undefined weak symbol (null).
    // SAFETY: plain system calls with no arguments.
    let main_thread = unsafe { libc::syscall(libc::SYS_gettid) == libc::getpid().into() };
    let marker = 0u8;
    let here = std::hint::black_box(std::ptr::addr_of!(marker)) as usize;
    main_thread.then(|| below_frame(here, page_size()))
}

const STACK_TRIM_DEPTH: usize = 1 << 20;

fn below_frame(here: usize, page: usize) -> Range {
    let end = (here / page).saturating_sub(1) * page;
    Range {
        start: end.saturating_sub(STACK_TRIM_DEPTH),
        end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static RELOCATED: &[&str] = &["pointers", "relocated", "at start"];
    static WRITABLE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

    fn released() -> Vec<Range> {
        let segments = read_only_segments();
        segments.ranges[..segments.len].to_vec()
    }

    #[test]
    fn the_code_is_released_and_written_data_never() {
        let ranges = released();
        let code = released as fn() -> Vec<Range> as usize;
        assert!(ranges.iter().any(|r| contains(*r, code)), "{ranges:x?}");
        for written in [
            std::ptr::addr_of!(WRITABLE) as usize,
            std::ptr::addr_of!(RELOCATED) as usize,
        ] {
            assert!(
                !ranges.iter().any(|r| contains(*r, written)),
                "{written:x} in {ranges:x?}"
            );
        }
        let page = page_size();
        assert!(ranges
            .iter()
            .all(|r| r.start % page == 0 && r.end % page == 0 && r.start < r.end));
    }

    #[test]
    fn everything_written_survives_a_trim() {
        let heap = vec![7u8; 1 << 20];
        WRITABLE.store(42, std::sync::atomic::Ordering::SeqCst);
        let woke = trim_then(|| "woken");
        assert_eq!(woke, "woken");
        assert_eq!(RELOCATED, &["pointers", "relocated", "at start"]);
        assert_eq!(WRITABLE.load(std::sync::atomic::Ordering::SeqCst), 42);
        assert!(heap.iter().all(|&b| b == 7));
    }

    #[test]
    fn the_stack_range_ends_a_page_below_the_frame() {
        let r = below_frame(0x7fff_0000_1234, 4096);
        assert_eq!(r.end, 0x7fff_0000_0000);
        assert_eq!(r.start, 0x7fff_0000_0000 - STACK_TRIM_DEPTH);
        assert_eq!(below_frame(0x1800, 4096), Range { start: 0, end: 0 });
    }

    #[test]
    fn other_threads_keep_their_stacks() {
        let trimmed = std::thread::spawn(dead_stack).join().unwrap();
        assert_eq!(trimmed, None);
    }
}
