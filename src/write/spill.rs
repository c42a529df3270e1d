//! A seekable byte sink for archives: small writes gather in memory, large ones go
//! straight to the output file.
//!
//! The zip writer wants `Write + Seek` (it goes back to fill in each entry's header once
//! its data is written). An EPUB built in memory and then written out copied its cover
//! (100–200 KB) twice: into the archive, a few dozen fresh pages faulted in at the very
//! end of the conversion, and from there into the file. Spilling the cover's pieces to
//! the file as they come leaves only headers and small entries in memory.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

/// Writes at least this long go to the file (when there is one) rather than the buffer.
const SPILL_AT: usize = 16 << 10;

/// An archive being written: bytes from `base` on are in `buf`, earlier ones in the file.
pub struct Spill<'f> {
    /// Where spilled bytes go; without one, everything stays in memory.
    file: Option<&'f File>,
    buf: Vec<u8>,
    /// The file offset of `buf[0]`.
    base: u64,
    /// Where the next write goes.
    pos: u64,
}

impl<'f> Spill<'f> {
    /// A sink with room in memory for `capacity` bytes, writing to `file` from its start
    /// (an empty file) if given: small writes stay in memory until a large one, a flush
    /// or [`Spill::finish`] sends them out. Without a file everything stays in memory.
    pub fn new(file: Option<&'f File>, capacity: usize) -> Spill<'f> {
        Spill {
            file,
            buf: Vec::with_capacity(capacity),
            base: 0,
            pos: 0,
        }
    }

    /// Bytes written in all.
    pub fn len(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// Sends what is still in memory to the file, if there is one, and returns it
    /// otherwise (empty for a file).
    pub fn finish(mut self) -> io::Result<Vec<u8>> {
        self.flush()?;
        Ok(std::mem::take(&mut self.buf))
    }
}

/// Writes all of `data` at `offset` of `file`.
fn write_at(mut file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(data)
}

impl Write for Spill<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let end = self.len();
        if self.pos < self.base {
            // Mending bytes already sent out (a header whose entry's data was spilled).
            let n = data.len().min((self.base - self.pos) as usize);
            if let Some(file) = self.file {
                write_at(file, &data[..n], self.pos)?;
            }
            self.pos += n as u64;
            return Ok(n);
        }
        if let Some(file) = self.file
            && self.pos == end
            && data.len() >= SPILL_AT
        {
            self.flush()?;
            write_at(file, data, end)?;
            self.base = end + data.len() as u64;
            self.pos = self.base;
            return Ok(data.len());
        }
        let at = usize::try_from(self.pos - self.base).map_err(io::Error::other)?;
        if at > self.buf.len() {
            // A seek past the end leaves a gap, which reads as zeros in a file too.
            self.buf.resize(at, 0);
        }
        let overlap = data.len().min(self.buf.len() - at);
        self.buf[at..at + overlap].copy_from_slice(&data[..overlap]);
        self.buf.extend_from_slice(&data[overlap..]);
        self.pos += data.len() as u64;
        Ok(data.len())
    }

    /// Sends what is in memory to the file, if there is one, so that it is not left for
    /// the end; without a file, nothing happens.
    fn flush(&mut self) -> io::Result<()> {
        if let Some(file) = self.file {
            write_at(file, &self.buf, self.base)?;
            self.base += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }
}

impl Seek for Spill<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// The same writes and seeks, in memory and through a file, give the same bytes,
    /// whether or not a write is large enough to spill.
    #[test]
    fn spilled_and_kept_bytes_agree() {
        let big: Vec<u8> = (0..SPILL_AT + 100).map(|i| (i % 251) as u8).collect();
        let run = |sink: &mut Spill| -> io::Result<()> {
            sink.write_all(b"head")?;
            sink.flush()?;
            sink.write_all(b"er..")?;
            sink.write_all(&big)?;
            // Mend the header after its data went out, then carry on at the end.
            sink.seek(SeekFrom::Start(6))?;
            sink.write_all(b"OK")?;
            sink.seek(SeekFrom::End(0))?;
            sink.write_all(b"tail")?;
            sink.seek(SeekFrom::Current(-2))?;
            sink.write_all(b"IL!")?;
            Ok(())
        };
        let mut memory = Spill::new(None, 0);
        run(&mut memory).expect("memory");
        let kept = memory.finish().expect("finish");

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.bin");
        let file = File::create(&path).expect("create");
        let mut spill = Spill::new(Some(&file), 0);
        run(&mut spill).expect("file");
        assert_eq!(spill.len(), kept.len() as u64);
        assert!(spill.base > 0, "the large write was spilled");
        assert!(spill.finish().expect("finish").is_empty());
        let mut on_disk = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut on_disk))
            .expect("read");
        assert_eq!(on_disk, kept);
        assert_eq!(&kept[..8], b"headerOK");
        assert!(kept.ends_with(b"taIL!"));
    }

    #[test]
    fn seeking_before_the_start_is_an_error() {
        let mut sink = Spill::new(None, 0);
        assert!(sink.seek(SeekFrom::Current(-1)).is_err());
    }
}
