//! numpy arrays and dtypes as a pickle describes them: decoded from the
//! `numpy.dtype` + `BUILD` state, `_reconstruct` + `BUILD` state (protocols
//! 2 to 4), `_frombuffer` (protocol 5) and joblib's raw payloads, into plain
//! bytes with a layout, and read back as numbers or strings.
//!
//! Mirrors numpy's `arraydescr_setstate` (dtype state version 3/4:
//! `(version, byteorder, subarray, names, fields, elsize, alignment, flags)`)
//! and `array_setstate` (`(version, shape, dtype, is_fortran, data)`).
//! Structured dtypes keep each field's offset, so records with padding (the
//! `Tree.nodes` of scikit-learn) read correctly. Not for: knowing what an array
//! means to scikit-learn.

use super::value::NodeId;
use crate::quote::quoted;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    UInt,
    Float,
    /// Python objects: the array holds nodes, not bytes.
    Object,
    /// Fixed-width UCS-4 text (`<U5`).
    Unicode,
    /// Fixed-width bytes (`S3`).
    Bytes,
    /// Records (structured dtypes) or raw void.
    Void,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dtype {
    pub kind: Kind,
    /// Bytes per element.
    pub itemsize: usize,
    pub big_endian: bool,
    /// The fields of a structured dtype, in declaration order.
    pub fields: Vec<RecordField>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordField {
    pub name: String,
    pub dtype: Dtype,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// The element bytes in the array's own order (C or Fortran).
    Raw(Vec<u8>),
    /// The elements of an object array, in the array's own order.
    Objects(Vec<NodeId>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Whether the data is in Fortran (column-major) order.
    pub fortran: bool,
    pub data: Data,
}

impl Dtype {
    /// Parses a numpy type string such as `f8`, `<i4`, `U5`, `O8`, `V64`, `b1`.
    /// `elsize` (from the state; -1 or 0 when implied) overrides the size of
    /// flexible types.
    pub fn parse(typestr: &str, byteorder: Option<char>, elsize: i64) -> Result<Dtype, String> {
        let mut chars = typestr.chars().peekable();
        let mut big_endian = false;
        if let Some(&c) = chars.peek()
            && matches!(c, '<' | '>' | '|' | '=')
        {
            big_endian = c == '>';
            chars.next();
        }
        if let Some(order) = byteorder {
            big_endian = order == '>';
        }
        let code = chars
            .next()
            .ok_or_else(|| "an empty numpy type string".to_string())?;
        let digits: String = chars.collect();
        let size: usize = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .map_err(|_| format!("the numpy type {} is not understood", quoted(typestr)))?
        };
        let (kind, itemsize) = match code {
            'b' => (Kind::Bool, 1),
            'i' => (Kind::Int, size),
            'u' => (Kind::UInt, size),
            'f' => (Kind::Float, size),
            'O' => (Kind::Object, 8),
            'U' => (Kind::Unicode, size.saturating_mul(4)),
            'S' | 'a' => (Kind::Bytes, size),
            'V' => (Kind::Void, size),
            _ => {
                return Err(format!(
                    "numpy arrays of type {} are not supported (numbers, booleans, text and objects are)",
                    quoted(typestr)
                ));
            }
        };
        let itemsize = if elsize > 0 && matches!(kind, Kind::Unicode | Kind::Bytes | Kind::Void) {
            elsize as usize
        } else {
            itemsize
        };
        let valid = match kind {
            Kind::Bool => itemsize == 1,
            Kind::Int | Kind::UInt => matches!(itemsize, 1 | 2 | 4 | 8),
            Kind::Float => matches!(itemsize, 4 | 8),
            Kind::Object => true,
            Kind::Unicode => itemsize % 4 == 0,
            Kind::Bytes | Kind::Void => true,
        };
        if !valid {
            return Err(format!(
                "numpy arrays of type {} are not supported (16-bit floats and odd sizes are not)",
                quoted(typestr)
            ));
        }
        Ok(Dtype {
            kind,
            itemsize,
            big_endian: big_endian && itemsize > 1,
            fields: Vec::new(),
        })
    }

    pub fn field(&self, name: &str) -> Option<&RecordField> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether elements can be read as numbers.
    pub fn is_numeric(&self) -> bool {
        matches!(self.kind, Kind::Bool | Kind::Int | Kind::UInt | Kind::Float)
    }

    /// Reads one number of this dtype from `bytes` (exactly `itemsize` long).
    fn read_f64(&self, bytes: &[u8]) -> Option<f64> {
        let mut buf = [0u8; 8];
        let n = self.itemsize;
        let slice = bytes.get(..n)?;
        if n > 8 {
            return None;
        }
        if self.big_endian {
            for (i, b) in slice.iter().rev().enumerate() {
                buf[i] = *b;
            }
        } else {
            buf[..n].copy_from_slice(slice);
        }
        Some(match (self.kind, n) {
            (Kind::Bool, 1) => f64::from(u8::from(buf[0] != 0)),
            (Kind::UInt, _) => u64::from_le_bytes(buf) as f64,
            (Kind::Int, _) => {
                // Sign-extend from n bytes.
                let shift = 64 - 8 * n as u32;
                ((i64::from_le_bytes(buf) << shift) >> shift) as f64
            }
            (Kind::Float, 4) => f64::from(f32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]])),
            (Kind::Float, 8) => f64::from_le_bytes(buf),
            _ => return None,
        })
    }

    fn read_i64(&self, bytes: &[u8]) -> Option<i64> {
        match self.kind {
            Kind::Int | Kind::UInt | Kind::Bool => {
                let mut buf = [0u8; 8];
                let n = self.itemsize;
                let slice = bytes.get(..n)?;
                if self.big_endian {
                    for (i, b) in slice.iter().rev().enumerate() {
                        buf[i] = *b;
                    }
                } else {
                    buf[..n].copy_from_slice(slice);
                }
                if self.kind == Kind::Int {
                    let shift = 64 - 8 * n as u32;
                    Some((i64::from_le_bytes(buf) << shift) >> shift)
                } else {
                    i64::try_from(u64::from_le_bytes(buf)).ok()
                }
            }
            _ => None,
        }
    }

    /// Reads one text element (`U` or `S`), trailing NULs removed.
    fn read_text(&self, bytes: &[u8]) -> Option<String> {
        match self.kind {
            Kind::Unicode => {
                let mut out = String::new();
                for chunk in bytes.chunks_exact(4) {
                    let mut b = [chunk[0], chunk[1], chunk[2], chunk[3]];
                    if self.big_endian {
                        b.reverse();
                    }
                    let code = u32::from_le_bytes(b);
                    if code == 0 {
                        break;
                    }
                    out.push(char::from_u32(code)?);
                }
                Some(out)
            }
            Kind::Bytes => {
                let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
                Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
            }
            _ => None,
        }
    }
}

/// The number of elements of `shape`, or `None` on overflow.
pub fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, d| n.checked_mul(*d))
}

impl Array {
    /// Builds an array, checking that the data fits the shape and dtype.
    pub fn new(
        dtype: Dtype,
        shape: Vec<usize>,
        fortran: bool,
        data: Data,
    ) -> Result<Array, String> {
        let count = element_count(&shape)
            .ok_or_else(|| format!("the array shape {shape:?} is too large"))?;
        match &data {
            Data::Raw(bytes) => {
                if dtype.kind == Kind::Object {
                    return Err("an object array must hold objects, not bytes".into());
                }
                let expected = count.checked_mul(dtype.itemsize);
                if expected != Some(bytes.len()) {
                    return Err(format!(
                        "an array of shape {shape:?} and {}-byte elements needs {} bytes but has {}",
                        dtype.itemsize,
                        expected.map_or_else(|| "too many".to_string(), |e| e.to_string()),
                        bytes.len()
                    ));
                }
            }
            Data::Objects(items) => {
                if dtype.kind != Kind::Object {
                    return Err("only object arrays hold objects".into());
                }
                if items.len() != count {
                    return Err(format!(
                        "an object array of shape {shape:?} has {} elements",
                        items.len()
                    ));
                }
            }
        }
        for f in &dtype.fields {
            if f.offset
                .checked_add(f.dtype.itemsize)
                .is_none_or(|end| end > dtype.itemsize)
            {
                return Err(format!(
                    "the record field {} lies outside its {}-byte record",
                    quoted(&f.name),
                    dtype.itemsize
                ));
            }
        }
        Ok(Array {
            dtype,
            shape,
            fortran,
            data,
        })
    }

    pub fn len(&self) -> usize {
        element_count(&self.shape).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The position in storage of the element at C-order position `i`.
    fn storage_index(&self, i: usize) -> usize {
        if !self.fortran || self.shape.len() < 2 {
            return i;
        }
        // Split the C-order index into coordinates, then apply Fortran strides.
        let mut rest = i;
        let mut coords = vec![0usize; self.shape.len()];
        for (axis, dim) in self.shape.iter().enumerate().rev() {
            let d = (*dim).max(1);
            coords[axis] = rest % d;
            rest /= d;
        }
        let mut index = 0;
        let mut stride = 1;
        for (axis, dim) in self.shape.iter().enumerate() {
            index += coords[axis] * stride;
            stride *= *dim;
        }
        index
    }

    fn element_bytes(&self, i: usize) -> Option<&[u8]> {
        let Data::Raw(bytes) = &self.data else {
            return None;
        };
        let size = self.dtype.itemsize;
        let start = self.storage_index(i).checked_mul(size)?;
        bytes.get(start..start.checked_add(size)?)
    }

    /// The elements as numbers, in C order; `None` unless the dtype is numeric.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        if !self.dtype.is_numeric() {
            return None;
        }
        (0..self.len())
            .map(|i| self.dtype.read_f64(self.element_bytes(i)?))
            .collect()
    }

    /// The elements as integers, in C order; `None` unless the dtype is integral.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        (0..self.len())
            .map(|i| self.dtype.read_i64(self.element_bytes(i)?))
            .collect()
    }

    /// The elements of a text array (`U` or `S`), in C order.
    pub fn to_strings(&self) -> Option<Vec<String>> {
        (0..self.len())
            .map(|i| self.dtype.read_text(self.element_bytes(i)?))
            .collect()
    }

    /// The elements of an object array, in C order.
    pub fn objects(&self) -> Option<Vec<NodeId>> {
        let Data::Objects(items) = &self.data else {
            return None;
        };
        (0..self.len())
            .map(|i| items.get(self.storage_index(i)).copied())
            .collect()
    }

    /// One field of every record of a structured array, as numbers.
    pub fn field_f64(&self, name: &str) -> Option<Vec<f64>> {
        let field = self.dtype.field(name)?;
        if !field.dtype.is_numeric() {
            return None;
        }
        (0..self.len())
            .map(|i| {
                let record = self.element_bytes(i)?;
                field.dtype.read_f64(record.get(field.offset..)?)
            })
            .collect()
    }

    /// One integer field of every record of a structured array.
    pub fn field_i64(&self, name: &str) -> Option<Vec<i64>> {
        let field = self.dtype.field(name)?;
        (0..self.len())
            .map(|i| {
                let record = self.element_bytes(i)?;
                field.dtype.read_i64(record.get(field.offset..)?)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f8(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn type_strings() {
        let d = Dtype::parse("f8", Some('<'), -1).unwrap();
        assert_eq!((d.kind, d.itemsize, d.big_endian), (Kind::Float, 8, false));
        let d = Dtype::parse("i4", Some('>'), -1).unwrap();
        assert_eq!((d.kind, d.itemsize, d.big_endian), (Kind::Int, 4, true));
        let d = Dtype::parse("U5", Some('<'), 20).unwrap();
        assert_eq!((d.kind, d.itemsize), (Kind::Unicode, 20));
        assert!(Dtype::parse("c16", None, -1).is_err());
        assert!(Dtype::parse("f2", None, -1).is_err());
        assert!(Dtype::parse("", None, -1).is_err());
        assert!(Dtype::parse("f99999999999999999999999", None, -1).is_err());
    }

    #[test]
    fn fortran_order_reads_in_c_order() {
        let d = Dtype::parse("f8", None, -1).unwrap();
        // [[1, 2, 3], [4, 5, 6]] stored column by column.
        let a = Array::new(
            d,
            vec![2, 3],
            true,
            Data::Raw(f8(&[1., 4., 2., 5., 3., 6.])),
        )
        .unwrap();
        assert_eq!(a.to_f64().unwrap(), vec![1., 2., 3., 4., 5., 6.]);
    }

    #[test]
    fn records_with_padding() {
        let mut d = Dtype::parse("V16", Some('|'), 16).unwrap();
        d.fields = vec![
            RecordField {
                name: "a".into(),
                dtype: Dtype::parse("i8", Some('<'), -1).unwrap(),
                offset: 0,
            },
            RecordField {
                name: "b".into(),
                dtype: Dtype::parse("u1", Some('|'), -1).unwrap(),
                offset: 8,
            },
        ];
        let mut bytes = Vec::new();
        for (a, b) in [(-3i64, 1u8), (7, 0)] {
            bytes.extend(a.to_le_bytes());
            bytes.push(b);
            bytes.extend([0xAA; 7]); // padding
        }
        let arr = Array::new(d, vec![2], false, Data::Raw(bytes)).unwrap();
        assert_eq!(arr.field_i64("a").unwrap(), vec![-3, 7]);
        assert_eq!(arr.field_f64("b").unwrap(), vec![1.0, 0.0]);
        assert!(arr.field_f64("c").is_none());
    }

    #[test]
    fn sizes_are_checked() {
        let d = Dtype::parse("f8", None, -1).unwrap();
        assert!(Array::new(d.clone(), vec![3], false, Data::Raw(vec![0; 16])).is_err());
        assert!(Array::new(d, vec![usize::MAX, 3], false, Data::Raw(vec![])).is_err());
        let big = Dtype::parse("i8", Some('>'), -1).unwrap();
        let a = Array::new(
            big,
            vec![1],
            false,
            Data::Raw((-2i64).to_be_bytes().to_vec()),
        )
        .unwrap();
        assert_eq!(a.to_i64().unwrap(), vec![-2]);
    }
}
