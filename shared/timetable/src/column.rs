//! [`Column`]: a read-only array of plain-old-data that is either owned (built by the
//! importer) or a typed view into the memory-mapped snapshot file (no copy at load).

use std::ops::Deref;
use std::sync::Arc;

use bytemuck::Pod;

/// The bytes a mapped column points into: the snapshot file's mapping, shared by all columns.
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

pub struct Column<T: Pod> {
    storage: Storage<T>,
}

enum Storage<T> {
    Owned(Vec<T>),
    Mapped { bytes: SharedBytes, offset: usize, len: usize },
}

impl<T: Pod> Column<T> {
    /// A view of `len` values of `T` at byte `offset` of `bytes`.
    ///
    /// Fails (returns `None`) when the range is out of bounds or not aligned for `T`, so a
    /// corrupt snapshot is an error, never undefined behaviour.
    pub fn mapped(bytes: SharedBytes, offset: usize, len: usize) -> Option<Self> {
        let size = len.checked_mul(size_of::<T>())?;
        let end = offset.checked_add(size)?;
        let slice = (*bytes).as_ref().get(offset..end)?;
        bytemuck::try_cast_slice::<u8, T>(slice).ok()?;
        Some(Self { storage: Storage::Mapped { bytes, offset, len } })
    }

    pub fn as_slice(&self) -> &[T] {
        match &self.storage {
            Storage::Owned(values) => values,
            Storage::Mapped { bytes, offset, len } => {
                let slice = &(**bytes).as_ref()[*offset..*offset + *len * size_of::<T>()];
                // Checked in `mapped`; the bytes are immutable and kept alive by the Arc.
                bytemuck::cast_slice(slice)
            }
        }
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self.storage, Storage::Mapped { .. })
    }

    /// The raw bytes of the values (for writing a snapshot).
    pub fn as_bytes(&self) -> &[u8] {
        bytemuck::cast_slice(self.as_slice())
    }
}

impl<T: Pod> Default for Column<T> {
    fn default() -> Self {
        Self { storage: Storage::Owned(Vec::new()) }
    }
}

impl<T: Pod> From<Vec<T>> for Column<T> {
    fn from(values: Vec<T>) -> Self {
        Self { storage: Storage::Owned(values) }
    }
}

impl<T: Pod> Deref for Column<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Pod + std::fmt::Debug> std::fmt::Debug for Column<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Column")
            .field("len", &self.len())
            .field("mapped", &self.is_mapped())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_column_reads_values_and_rejects_bad_ranges() {
        let values: Vec<u32> = vec![7, 8, 9];
        let bytes: SharedBytes = Arc::new(bytemuck::cast_slice::<u32, u8>(&values).to_vec());
        let column = Column::<u32>::mapped(bytes.clone(), 4, 2).expect("in bounds");
        assert_eq!(&*column, &[8, 9]);
        assert!(Column::<u32>::mapped(bytes.clone(), 4, 3).is_none(), "past the end");
        assert!(Column::<u32>::mapped(bytes, usize::MAX, 1).is_none(), "overflow");
    }
}
