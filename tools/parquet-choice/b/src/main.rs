//! Variant B: parquet with the arrow feature, Arrow writer and projected Arrow reader, snappy.
use arrow_array::{Array, ArrayRef, DictionaryArray, Int32Array, Int64Array, RecordBatch, UInt32Array};
use arrow_array::types::Int32Type;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::sync::Arc;
use std::time::Instant;

const KINDS: [&str; 6] = ["card", "transfer_in", "transfer_out", "cash", "fee", "interest"];

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let path = std::env::temp_dir().join("pqb.parquet");
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).set_max_row_group_row_count(Some(1 << 20)).build();
    let t = Instant::now();
    let mut x: u64 = 88172645463325252;
    let mut w: Option<ArrowWriter<std::fs::File>> = None;
    let mut start = 0;
    while start < n {
        let end = (start + (1 << 20)).min(n);
        let (mut c, mut d, mut a, mut k) = (vec![], vec![], vec![], vec![]);
        for i in start..end {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            c.push((x % 100_000) as u32);
            d.push(19_000 + (i * 365 / n) as i32);
            a.push((x >> 20) as i64 % 1_000_000 - 300_000);
            k.push(KINDS[(x >> 40) as usize % KINDS.len()]);
        }
        let kind: DictionaryArray<Int32Type> = k.into_iter().collect();
        let batch = RecordBatch::try_from_iter(vec![
            ("customer_idx", Arc::new(UInt32Array::from(c)) as ArrayRef),
            ("day", Arc::new(Int32Array::from(d)) as ArrayRef),
            ("amount", Arc::new(Int64Array::from(a)) as ArrayRef),
            ("kind", Arc::new(kind) as ArrayRef),
        ]).unwrap();
        let wr = w.get_or_insert_with(|| ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), Some(props.clone())).unwrap());
        wr.write(&batch).unwrap();
        start = end;
    }
    w.unwrap().close().unwrap();
    let wt = t.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    let t = Instant::now();
    let b = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap().with_batch_size(65536).build().unwrap();
    let (mut rows, mut s) = (0usize, 0i64);
    for batch in b { let batch = batch.unwrap(); rows += batch.num_rows(); s += batch.column(2).as_any().downcast_ref::<Int64Array>().unwrap().values().iter().sum::<i64>(); }
    let rt = t.elapsed();
    let t = Instant::now();
    let bld = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
    let mask = ProjectionMask::roots(bld.parquet_schema(), [0, 2]);
    let mut s2 = 0i64;
    for batch in bld.with_projection(mask).with_batch_size(65536).build().unwrap() { let batch = batch.unwrap(); s2 += batch.column(1).as_any().downcast_ref::<Int64Array>().unwrap().values().iter().sum::<i64>() + batch.num_rows() as i64; }
    let pt = t.elapsed();
    println!("B parquet+arrow snappy: rows={rows} write={:.2}s read4={:.2}s read2={:.2}s size={:.1}MB check={s} {s2}", wt.as_secs_f64(), rt.as_secs_f64(), pt.as_secs_f64(), size as f64 / 1e6);
}
