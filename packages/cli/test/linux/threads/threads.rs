//! std::thread in a static Rust program, with a deterministic result:
//! spawn and join with values, Arc<Mutex>, a Condvar handshake, mpsc
//! channels from several producers, thread::scope over borrowed slices,
//! thread_local!, and a thread's panic caught by join. Prints the results.
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread;

thread_local! {
    static LOCAL: Cell<u64> = const { Cell::new(0) };
}

fn main() {
    // spawn + join with results, thread_local! per thread
    let handles: Vec<_> = (0..8u64)
        .map(|i| {
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    for k in 0..10_000u64 {
                        LOCAL.with(|l| l.set(l.get() + (i * 10_000 + k) % 7919));
                    }
                    (thread::current().name().unwrap().to_string(), LOCAL.with(|l| l.get()))
                })
                .unwrap()
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (name, v) in &results {
        println!("{name}: {v}");
    }
    println!("main's thread_local untouched: {}", LOCAL.with(|l| l.get()) == 0);

    // Arc<Mutex>
    let counter = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..8)
        .map(|_| {
            let c = Arc::clone(&counter);
            thread::spawn(move || {
                for _ in 0..1000 {
                    *c.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    println!("mutex counter: {}", *counter.lock().unwrap());

    // Condvar: a handshake, then a ping-pong of turns
    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    let p2 = Arc::clone(&pair);
    let pong = thread::spawn(move || {
        let (m, cv) = &*p2;
        let mut turns = 0;
        let mut g = m.lock().unwrap();
        while *g < 200 {
            while *g % 2 == 0 {
                g = cv.wait(g).unwrap();
            }
            if *g >= 200 {
                break;
            }
            *g += 1;
            turns += 1;
            cv.notify_one();
        }
        turns
    });
    {
        let (m, cv) = &*pair;
        let mut g = m.lock().unwrap();
        while *g < 199 {
            *g += 1;
            cv.notify_one();
            while *g % 2 == 1 {
                g = cv.wait(g).unwrap();
            }
        }
        *g += 1;
        cv.notify_one();
    }
    println!("condvar ping-pong: pong took {} turns", pong.join().unwrap());

    // mpsc: 4 producers, one receiver
    let (tx, rx) = mpsc::channel::<u64>();
    for p in 0..4u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..500 {
                tx.send(p * 1000 + i).unwrap();
            }
        });
    }
    drop(tx);
    let mut got: Vec<u64> = rx.iter().collect();
    got.sort_unstable();
    println!("channel: {} messages, sum {}, first {:?}, last {:?}", got.len(), got.iter().sum::<u64>(), got.first(), got.last());

    // sync_channel with a bound of 1: rendezvous-like
    let (stx, srx) = mpsc::sync_channel::<String>(1);
    let sender = thread::spawn(move || {
        for w in ["alpha", "beta", "gamma"] {
            stx.send(w.to_string()).unwrap();
        }
    });
    let words: Vec<String> = srx.iter().collect();
    sender.join().unwrap();
    println!("sync_channel: {}", words.join(" "));

    // thread::scope over borrowed data
    let data: Vec<u64> = (1..=100_000).collect();
    let hits = AtomicUsize::new(0);
    let sums: Vec<u64> = thread::scope(|s| {
        let hs: Vec<_> = data
            .chunks(12_500)
            .map(|c| {
                let hits = &hits;
                s.spawn(move || {
                    hits.fetch_add(1, Ordering::SeqCst);
                    c.iter().map(|x| x * x % 1_000_003).sum::<u64>()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    println!("scope: {} chunks, sums {:?}, total {}", hits.load(Ordering::SeqCst), sums, sums.iter().sum::<u64>());

    // RwLock
    let table = Arc::new(RwLock::new(vec![0u32; 8]));
    let hs: Vec<_> = (0..8)
        .map(|i| {
            let t = Arc::clone(&table);
            thread::spawn(move || {
                t.write().unwrap()[i] = (i as u32 + 1) * 11;
                t.read().unwrap().len()
            })
        })
        .collect();
    let lens: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
    println!("rwlock: {:?}, lens {}", table.read().unwrap(), lens);

    // a panicking thread: join returns the payload
    std::panic::set_hook(Box::new(|_| {}));
    let r = thread::spawn(|| -> u32 { panic!("on purpose") }).join();
    let msg = r.err().and_then(|e| e.downcast_ref::<&str>().map(|s| s.to_string()));
    println!("panicked thread joined with: {:?}", msg);
    println!("available_parallelism >= 1: {}", thread::available_parallelism().map(|n| n.get() >= 1).unwrap_or(false));
}
